from datetime import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import Service
from providers.sync import catalogue_apply

pytestmark = pytest.mark.django_db


def items(n: int, *, price: int = 1000, start: int = 0) -> list[ServiceInfo]:
    return [
        ServiceInfo(
            external_id=str(i),
            name=f"Instagram Followers {i}",
            category="Instagram",
            kind=ProductKind.SMM,
            cost=Decimal(price + i % 7),
            min_qty=100,
            max_qty=10000,
            can_refill=i % 2 == 0,
            raw={"service": str(i), "rate": str(price + i % 7)},
        )
        for i in range(start, start + n)
    ]


def test_twenty_thousand_items_sync_in_a_bounded_number_of_queries(smm_provider, django_assert_max_num_queries):
    catalogue = items(20_000)
    with django_assert_max_num_queries(40):
        result = catalogue_apply(smm_provider, catalogue)
    assert (result.created, result.updated, result.disabled) == (20_000, 0, 0)
    assert Service.objects.filter(provider=smm_provider).count() == 20_000


def test_resync_without_changes_writes_nothing(smm_provider):
    catalogue = items(5_000)
    catalogue_apply(smm_provider, catalogue)
    with CaptureQueriesContext(connection) as ctx:
        result = catalogue_apply(smm_provider, catalogue)
    assert (result.created, result.updated, result.disabled, result.unchanged) == (0, 0, 0, 5_000)
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    # Only the provider's "last synced" stamp is written; no catalogue row is touched.
    assert len(writes) == 1 and "providers_provider" in writes[0]


def test_changes_update_only_changed_rows_and_vanished_items_are_disabled(smm_provider, django_assert_max_num_queries):
    catalogue_apply(smm_provider, items(3_000))
    changed = items(3_000)
    changed[5] = ServiceInfo(**{**changed[5].__dict__, "cost": Decimal("99999"), "raw": {"new": True}})
    del changed[-1000:]  # 1,000 vanished upstream
    with django_assert_max_num_queries(12):
        result = catalogue_apply(smm_provider, changed)
    assert (result.created, result.updated, result.disabled, result.unchanged) == (0, 1, 1000, 1999)
    assert Service.objects.get(provider=smm_provider, external_id="5").cost == Decimal("99999")
    gone = Service.objects.get(provider=smm_provider, external_id="2999")
    assert gone.is_active is False  # kept for the orders that point at it
    # Coming back re-activates it.
    result = catalogue_apply(smm_provider, items(3_000))
    assert result.updated == 1001
    assert Service.objects.filter(provider=smm_provider, is_active=False).count() == 0


def test_fields_are_kept(smm_provider):
    info = ServiceInfo(
        external_id="BR10",
        name="Axis Data BRONET 13 GB",
        category="paket-internet / AXIS / Bronet",
        kind=ProductKind.PREPAID,
        cost=Decimal("50500"),
        in_stock=False,
        cutoff_start=time(23, 29),
        cutoff_end=time(0, 30),
        description="-",
        raw={"code": "BR10", "status": "empty"},
    )
    catalogue_apply(smm_provider, [info])
    row = Service.objects.get(external_id="BR10")
    assert (row.kind, row.cost, row.in_stock, row.cutoff_start, row.cutoff_end) == (
        "prepaid",
        Decimal("50500"),
        False,
        time(23, 29),
        time(0, 30),
    )
    assert row.raw == {"code": "BR10", "status": "empty"}


def test_bad_items_are_skipped_not_fatal(smm_provider):
    good = items(2)
    bad = [
        ServiceInfo(external_id="", name="no id", category="", kind=ProductKind.SMM, cost=Decimal(1)),
        ServiceInfo(external_id="neg", name="negative", category="", kind=ProductKind.SMM, cost=Decimal(-1)),
        ServiceInfo(external_id="x" * 101, name="long id", category="", kind=ProductKind.SMM, cost=Decimal(1)),
    ]
    result = catalogue_apply(smm_provider, good + bad)
    assert (result.created, result.skipped) == (2, 3)


def test_max_below_min_is_repaired(smm_provider):
    info = ServiceInfo(
        external_id="m", name="m", category="", kind=ProductKind.SMM, cost=Decimal(1), min_qty=500, max_qty=10
    )
    catalogue_apply(smm_provider, [info])
    row = Service.objects.get(external_id="m")
    assert (row.min_qty, row.max_qty) == (500, 500)


def test_sms_routes_survive_a_sync(raja_provider):
    routes = set(Service.objects.filter(provider=raja_provider).values_list("external_id", flat=True))
    assert routes == {"reguler", "masking", "otp"}
    result = catalogue_apply(raja_provider, [])
    assert result.disabled == 0
    assert Service.objects.filter(provider=raja_provider, is_active=True).count() == 3


def test_service_type_is_kept_and_follows_the_upstream(smm_provider):
    from dataclasses import replace

    first = [replace(item, service_type="Default" if i else "Package") for i, item in enumerate(items(3))]
    catalogue_apply(smm_provider, first)
    stored = dict(Service.objects.filter(provider=smm_provider).values_list("external_id", "service_type"))
    assert stored == {"0": "Package", "1": "Default", "2": "Default"}
    result = catalogue_apply(smm_provider, [replace(first[0], service_type="Custom Comments"), *first[1:]])
    assert result.updated == 1
    assert Service.objects.get(provider=smm_provider, external_id="0").service_type == "Custom Comments"
