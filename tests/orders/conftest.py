from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

import pytest

from orders.quotes import user_tier
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import Provider, Service
from providers.services import provider_save
from providers.sync import catalogue_apply
from tests.orders.fakes import FakeUpstream, install


@dataclass
class Shop:
    otp: Service
    smm: Service
    prepaid: Service
    raja_routes: dict[str, Service]
    masking_route: Service

    def price(self, service: Service, user) -> Decimal:
        from providers.pricing import price_for

        return price_for(service, user_tier(user)).price


def _service(provider: Provider, info: ServiceInfo) -> Service:
    catalogue_apply(provider, [info])
    return Service.objects.get(provider=provider, external_id=info.external_id)


@pytest.fixture
def shop(db) -> Shop:
    otp_provider, _ = provider_save(
        name="OTP", kind="virtusim", base_url="https://otp.example/json.php", api_key="k1k1k1k1"
    )
    smm_provider, _ = provider_save(name="SMM", kind="smm_v2", base_url="https://smm.example/api", api_key="k2k2k2k2")
    pre_provider, _ = provider_save(
        name="Pulsa", kind="osimesa", base_url="https://pulsa.example/api/prepaid", api_key="k3k3k3k3", user_id="77"
    )
    raja, _ = provider_save(
        name="Raja", kind="rajasms", base_url="https://raja.example", api_key="k4k4k4k4", sms_cost=Decimal("100")
    )
    mask, _ = provider_save(
        name="Mask",
        kind="masking_http",
        base_url="https://mask.example/m",
        username="u",
        password="p4p4p4p4",
        sms_cost=Decimal("120"),
    )
    otp = _service(otp_provider, ServiceInfo("1", "WhatsApp", "OTP", ProductKind.OTP, Decimal("1000"), stock=50))
    smm = _service(
        smm_provider,
        ServiceInfo(
            "101",
            "IG Followers",
            "Instagram",
            ProductKind.SMM,
            Decimal("10000"),
            min_qty=100,
            max_qty=10000,
            can_refill=True,
            can_cancel=True,
        ),
    )
    prepaid = _service(
        pre_provider,
        ServiceInfo(
            "TSEL5",
            "Telkomsel 5.000",
            "pulsa / TELKOMSEL",
            ProductKind.PREPAID,
            Decimal("5500"),
            cutoff_start=time(23, 30),
            cutoff_end=time(0, 30),
        ),
    )
    from providers.pricing import pricing_refresh

    pricing_refresh()
    routes = {s.external_id: s for s in Service.objects.filter(provider=raja)}
    return Shop(otp, smm, prepaid, routes, Service.objects.get(provider=mask, external_id="masking"))


@pytest.fixture
def upstream(monkeypatch) -> FakeUpstream:
    return install(monkeypatch)


@pytest.fixture
def buyer(make_reseller):
    return make_reseller("pembeli", deposit=1_000_000)
