"""Fixtures for the reseller pages: a small shop of every kind (with products out of stock, off sale and
in their cutoff window), an upstream faked in memory (tests/orders/fakes.py), and resellers with no
orders and with hundreds of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.services import wallet_debit
from orders.models import Order, OrderEvent, OrderRecipient
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import MarkupRule, Provider, Service
from providers.pricing import pricing_refresh
from providers.sync import catalogue_apply
from tests.fake_shop import IG_FOLLOWERS, OTP_WHATSAPP, fake_providers
from tests.orders.fakes import FakeUpstream, install

PASSWORD = "Rahasia-Sekali-77"


@dataclass
class WebShop:
    otp: Service
    otp_empty: Service
    smm: Service
    prepaid: Service
    prepaid_cutoff: Service
    prepaid_empty: Service
    off_sale: Service
    sms_routes: dict[str, Service]


def _services(provider: Provider, *infos: ServiceInfo) -> list[Service]:
    """Apply one provider's whole catalogue at once (a sync disables whatever is not in the list)."""
    catalogue_apply(provider, list(infos))
    return [Service.objects.get(provider=provider, external_id=info.external_id) for info in infos]


def _always_cutoff() -> tuple[time, time]:
    """A window containing the current WIB minute, whatever the clock says."""
    now = timezone.localtime()
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    return start, end


@pytest.fixture
def upstream(monkeypatch) -> FakeUpstream:
    return install(monkeypatch)


@pytest.fixture
def web_shop(db, upstream) -> WebShop:
    providers = fake_providers()
    otp, otp_empty = _services(
        providers["otp"],
        OTP_WHATSAPP,
        ServiceInfo("2", "Telegram", "OTP", ProductKind.OTP, Decimal("900"), stock=0, in_stock=False),
    )
    smm, off_sale = _services(
        providers["smm"],
        IG_FOLLOWERS,
        ServiceInfo("102", "TikTok Views", "TikTok", ProductKind.SMM, Decimal("5000"), min_qty=10, max_qty=900),
    )
    start, end = _always_cutoff()
    prepaid, prepaid_cutoff, prepaid_empty = _services(
        providers["prepaid"],
        ServiceInfo("TSEL5", "Telkomsel 5.000", "pulsa / TELKOMSEL", ProductKind.PREPAID, Decimal("5500")),
        ServiceInfo(
            "XL10",
            "XL 10.000",
            "pulsa / XL",
            ProductKind.PREPAID,
            Decimal("10500"),
            cutoff_start=start,
            cutoff_end=end,
        ),
        ServiceInfo("ISAT5", "Indosat 5.000", "pulsa / INDOSAT", ProductKind.PREPAID, Decimal("5600"), in_stock=False),
    )
    # The margin guard takes a service priced at cost off sale: a fixed price equal to the cost.
    MarkupRule.objects.create(service=off_sale, fixed_price=Decimal("5000"))
    pricing_refresh()
    routes = {s.external_id: s for s in Service.objects.filter(provider=providers["rajasms"])}
    return WebShop(otp, otp_empty, smm, prepaid, prepaid_cutoff, prepaid_empty, off_sale, routes)


@pytest.fixture
def rich(make_reseller) -> User:
    return make_reseller("kaya", deposit=5_000_000)


@pytest.fixture
def empty_reseller(db) -> User:
    """A reseller created the bare way: no wallet, no tier, no orders, no key."""
    return User.objects.create_user("kosong", password=PASSWORD)


def make_orders(user: User, shop: WebShop, n: int, *, spread_days: int = 40, charged: int = 0) -> list[Order]:
    """`n` orders of every kind and status in bulk, spread over the last `spread_days` days; the
    newest `charged` of them are paid through the wallet (so the dashboard has spend to show)."""
    kinds = [
        (ProductKind.OTP, shop.otp, {"target": "6281299990000", "otp_code": "123456"}),
        (ProductKind.SMM, shop.smm, {"target": "https://instagram.com/p/abc", "quantity": 1000, "remains": 10}),
        (ProductKind.PREPAID, shop.prepaid, {"target": "081234567890", "voucher": "1234-5678"}),
        (ProductKind.SMS, shop.sms_routes["reguler"], {"message": "Halo", "segments": 1}),
    ]
    statuses = ["pending", "processing", "completed", "partial", "canceled", "failed", "unknown"]
    rows = []
    for i in range(n):
        kind, service, extra = kinds[i % len(kinds)]
        rows.append(
            Order(
                user=user,
                kind=kind,
                service=service,
                provider=service.provider,
                status=statuses[i % len(statuses)],
                unit_price=Decimal("1500"),
                unit_cost=Decimal("1000"),
                charge=Decimal("1500"),
                cost=Decimal("1000"),
                external_id=str(90000 + i),
                **extra,
            )
        )
    orders = Order.objects.bulk_create(rows, batch_size=500)
    orders = list(Order.objects.filter(user=user).order_by("id"))
    now = timezone.now()
    for index, order in enumerate(orders):
        age = timedelta(days=spread_days * (len(orders) - 1 - index) / max(len(orders), 1))
        Order.objects.filter(pk=order.pk).update(created_at=now - age, updated_at=now - age)
    sms = [o for o in orders if o.kind == ProductKind.SMS][:3]
    OrderRecipient.objects.bulk_create(
        OrderRecipient(order=o, number=f"62812345678{j}", state="delivered") for o in sms for j in range(3)
    )
    OrderEvent.objects.bulk_create(OrderEvent(order=o, to_status="submitting", code="placed") for o in orders)
    for order in orders[-charged:] if charged else []:
        wallet_debit(user=user, amount=order.charge, order_id=order.pk, reason=f"Order #{order.pk}")
    return orders


def age(order: Order, seconds: float) -> None:
    Order.objects.filter(pk=order.pk).update(updated_at=F("updated_at") - timedelta(seconds=seconds))


@pytest.fixture
def busy(rich, web_shop) -> User:
    """A reseller with 300 orders of every kind and status."""
    make_orders(rich, web_shop, 300, charged=20)
    return rich
