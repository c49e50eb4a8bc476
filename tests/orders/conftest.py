from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orders.quotes import user_tier
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import Provider, Service
from providers.sync import catalogue_apply
from tests.fake_shop import IG_FOLLOWERS, OTP_WHATSAPP, fake_providers
from tests.orders.fakes import FakeUpstream, install

_window = (datetime.now(ZoneInfo("Asia/Jakarta")) + timedelta(hours=6)).replace(minute=30, second=0, microsecond=0)
CUTOFF_START, CUTOFF_END = _window.time(), (_window + timedelta(hours=1)).time()


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
    providers = fake_providers(masking=True)
    otp = _service(providers["otp"], OTP_WHATSAPP)
    smm = _service(providers["smm"], IG_FOLLOWERS)
    prepaid = _service(
        providers["prepaid"],
        ServiceInfo(
            "TSEL5",
            "Telkomsel 5.000",
            "pulsa / TELKOMSEL",
            ProductKind.PREPAID,
            Decimal("5500"),
            # A daily window that crosses midnight, six hours from now: never the time the suite runs at.
            cutoff_start=CUTOFF_START,
            cutoff_end=CUTOFF_END,
        ),
    )
    from providers.pricing import pricing_refresh

    pricing_refresh()
    routes = {s.external_id: s for s in Service.objects.filter(provider=providers["rajasms"])}
    return Shop(otp, smm, prepaid, routes, Service.objects.get(provider=providers["masking"], external_id="masking"))


@pytest.fixture
def upstream(monkeypatch) -> FakeUpstream:
    return install(monkeypatch)


@pytest.fixture
def buyer(make_reseller):
    return make_reseller("pembeli", deposit=1_000_000)
