"""Fixtures for the downstream API tests: a small catalogue of every kind behind the programmable fake
upstream (tests/orders/fakes.py), a reseller with an API key, and request helpers per protocol."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from accounts.services import apikey_rotate
from orders.quotes import WIB, user_tier
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import Provider, Service
from providers.pricing import price_for, pricing_refresh
from providers.sync import catalogue_apply
from tests.fake_shop import IG_FOLLOWERS, OTP_WHATSAPP, fake_providers
from tests.orders.fakes import FakeUpstream, install
from tests.providers.e2e_helpers import hang_up

START = Decimal("1000000.00")


@dataclass
class Catalogue:
    otp: Service
    otp_empty: Service
    smm: Service  # refill and cancel allowed
    smm_plain: Service  # neither
    prepaid: Service
    prepaid_empty: Service
    prepaid_cutoff: Service  # inside its cutoff window now
    raja_routes: dict[str, Service]

    def price(self, service: Service, user: User) -> Decimal:
        return price_for(service, user_tier(user)).price


def _apply(provider: Provider, *items: ServiceInfo) -> dict[str, Service]:
    catalogue_apply(provider, items)
    return {s.external_id: s for s in Service.objects.filter(provider=provider)}


@pytest.fixture
def catalogue(db) -> Catalogue:
    providers = fake_providers()
    otp = _apply(
        providers["otp"],
        OTP_WHATSAPP,
        ServiceInfo("2", "Telegram", "OTP", ProductKind.OTP, Decimal("1200"), stock=0, in_stock=False),
    )
    smm = _apply(
        providers["smm"],
        IG_FOLLOWERS,
        ServiceInfo("102", "TikTok Views", "TikTok", ProductKind.SMM, Decimal("2000"), min_qty=100, max_qty=50000),
    )
    now = datetime.now(WIB)
    prepaid = _apply(
        providers["prepaid"],
        ServiceInfo(
            "TSEL5", "Telkomsel 5.000", "pulsa / TELKOMSEL / Pulsa Reguler", ProductKind.PREPAID, Decimal("5500")
        ),
        ServiceInfo("XL10", "XL 10.000", "pulsa / XL", ProductKind.PREPAID, Decimal("10500"), in_stock=False),
        ServiceInfo(
            "ISAT5",
            "Indosat 5.000",
            "pulsa / INDOSAT",
            ProductKind.PREPAID,
            Decimal("5600"),
            cutoff_start=(now - timedelta(hours=1)).time().replace(second=0, microsecond=0),
            cutoff_end=(now + timedelta(hours=1)).time().replace(second=0, microsecond=0),
        ),
    )
    pricing_refresh()
    return Catalogue(
        otp=otp["1"],
        otp_empty=otp["2"],
        smm=smm["101"],
        smm_plain=smm["102"],
        prepaid=prepaid["TSEL5"],
        prepaid_empty=prepaid["XL10"],
        prepaid_cutoff=prepaid["ISAT5"],
        raja_routes={s.external_id: s for s in Service.objects.filter(provider=providers["rajasms"])},
    )


@pytest.fixture
def upstream(monkeypatch) -> FakeUpstream:
    return install(monkeypatch)


@dataclass
class Reseller:
    user: User
    key: str

    @property
    def sign(self) -> str:
        return hashlib.md5(f"{self.user.pk}{self.key}".encode()).hexdigest()


@pytest.fixture
def api_user(make_reseller) -> Reseller:
    user = make_reseller("toko", deposit=int(START))
    return Reseller(user, apikey_rotate(user))


@pytest.fixture
def other_user(make_reseller) -> Reseller:
    user = make_reseller("saingan", deposit=int(START))
    return Reseller(user, apikey_rotate(user))


@pytest.fixture
def settled_live_server(live_server):
    """The live server, left without a request thread when the test ends. A kept-alive client connection
    parks a server thread in `readline` until its socket closes (the adapters never close their
    sessions), and such a thread touching the database after the test is over fails; so once the test's
    requests are done, the server hangs up its idle connections and the threads are waited for."""
    yield live_server
    assert hang_up(live_server)


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Rate-limit counters and refresh throttles live in the cache: every test starts clean. The limiter's
    windows are fixed slots of the clock (orders.api.common._window): with the default 60 s, a test whose calls
    straddle a minute boundary counts them in two windows and its "third call is refused" never comes (met on
    CI). A year-long window keeps every test's calls in one slot."""
    settings.API_RATE_WINDOW = 365 * 24 * 3600
    cache.clear()
    yield
    cache.clear()


# --- one helper per protocol --------------------------------------------------------------------------
class Api:
    def __init__(self, client: Client) -> None:
        self.client = client

    def virtusim(self, key: str | None, method: str = "get", **params: Any):
        data = {"api_key": key, **params} if key is not None else params
        return getattr(self.client, method)("/api/json.php", data)

    def smm(self, key: str | None, headers: dict[str, str] | None = None, **form: Any):
        data = {"key": key, **form} if key is not None else form
        return self.client.post("/api/v2", data, headers=headers or {})

    def osimesa(self, who: Reseller | None, sign: str | None = None, **form: Any):
        data = dict(form)
        if who is not None:
            data = {"key": who.key, "sign": sign if sign is not None else who.sign, **form}
        return self.client.post("/api/prepaid", data)

    def raja(self, route: str, body: Any, action: str = "send", raw: bytes | None = None):
        payload = raw if raw is not None else json.dumps(body)
        return self.client.post(f"/sms/api_sms_{route}_{action}_json.php", payload, content_type="application/json")

    def masking(self, script: str, who: Reseller | None, method: str = "get", **params: Any):
        """`/api/masking/<script>.php` with `username` and `password` (= the API key) unless `who` is None."""
        data = {"username": who.user.username, "password": who.key, **params} if who is not None else params
        return getattr(self.client, method)(f"/api/masking/{script}.php", data)

    @staticmethod
    def packets(response) -> list[dict[str, Any]]:
        respon = response.json()["sending_respon"][0]
        assert respon["globalstatus"] == 10, respon
        return [item["packet"] for item in respon["datapacket"]]


@pytest.fixture
def api(client) -> Api:
    return Api(client)
