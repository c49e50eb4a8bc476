"""Report fixtures: orders written straight into the database (no placement, no HTTP) at chosen times,
so day boundaries in WIB and the money columns are exactly what a test says."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import LedgerEntry
from orders.models import Order
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import Provider, Service
from providers.services import provider_save
from providers.sync import catalogue_apply

WIB = ZoneInfo("Asia/Jakarta")


def wib(text: str) -> datetime:
    """'2026-11-20 23:59' in WIB as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def make_order(
    user,
    service: Service,
    *,
    at: datetime | None = None,
    status: str = "completed",
    charge: str | int = "12000",
    cost: str | int = "10000",
    refunded: str | int = "0",
    quantity: int = 1,
    target: str = "",
    external_id: str = "",
) -> Order:
    order = Order.objects.create(
        user=user,
        kind=service.kind,
        service=service,
        provider=service.provider,
        status=status,
        unit_price=Decimal(charge),
        unit_cost=Decimal(cost),
        quantity=quantity,
        charge=Decimal(charge),
        cost=Decimal(cost),
        refunded=Decimal(refunded),
        target=target,
        external_id=external_id,
    )
    if at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=at)
        order.created_at = at
    return order


def set_entry_time(entry: LedgerEntry, at: datetime) -> None:
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=at)  # queryset update: not the append-only save()


@pytest.fixture
def providers(db) -> tuple[Provider, Provider]:
    smm, _ = provider_save(name="SMM Pusat", kind="smm_v2", base_url="https://smm.example/api", api_key="k2k2k2k2")
    pulsa, _ = provider_save(
        name="Pulsa", kind="osimesa", base_url="https://pulsa.example/api/prepaid", api_key="k3k3k3k3", user_id="7"
    )
    return smm, pulsa


@pytest.fixture
def services(providers) -> tuple[Service, Service]:
    smm, pulsa = providers
    catalogue_apply(
        smm, [ServiceInfo("101", "IG Followers", "Instagram", ProductKind.SMM, Decimal("10000"), max_qty=10000)]
    )
    catalogue_apply(pulsa, [ServiceInfo("TSEL5", "Telkomsel 5.000", "pulsa", ProductKind.PREPAID, Decimal("5500"))])
    return Service.objects.get(provider=smm), Service.objects.get(provider=pulsa)


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Assertions read English msgids; the Indonesian catalogue is someone else's and changes under us."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's choice
    from django.utils import translation

    with translation.override("en"):
        yield


def read_csv(response) -> list[list[str]]:
    """A streamed CSV response as rows (checks the BOM on the way)."""
    import csv
    import io

    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
