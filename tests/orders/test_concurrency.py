"""Races on PostgreSQL: many placements against one balance, workers applying the same news, and the
real submitter's lanes of threads per provider (a provider that hangs keeps only its own lane busy, and
every accepted order is sent exactly once)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.models import LedgerEntry
from accounts.selectors import balance_of, ledger_violations
from orders.delivery import callbacks_apply
from orders.models import CallbackEvent, Order
from orders.placement import order_place
from orders.quotes import OrderInvalid
from orders.refresh import refresh_tick
from orders.submitter import submit_orders
from providers.adapters.types import ProductKind, Status
from tests.helpers import requires_postgres
from tests.orders.fakes import FakeAdapter
from tests.providers.e2e_helpers import wait_for

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_threads(n: int, work) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            results[i] = work(i)
        except Exception as exc:  # asserted by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.parametrize("kind", ["smm", "otp"])
def test_fifty_threads_placing_for_a_balance_that_covers_ten(shop, upstream, make_reseller, settings, kind):
    settings.PROVIDER_MAX_IN_FLIGHT = 50  # the race is about money: let every OTP call through the bulkhead
    fields = {"otp": {"service": shop.otp}, "smm": {"service": shop.smm, "link": "https://x.com/a", "quantity": 100}}
    probe = make_reseller("probe", deposit=100_000)
    charge = order_place(probe, kind=kind, **fields[kind]).charge
    buyer = make_reseller("rame", deposit=charge * 10)
    results = run_threads(50, lambda i: order_place(buyer, kind=kind, **fields[kind]))
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OrderInvalid)]
    assert len(placed) == 10, [r for r in results if not isinstance(r, Order | OrderInvalid)]
    assert len(refused) == 40
    assert balance_of(buyer) == Decimal("0.00")
    assert Order.objects.filter(user=buyer).count() == 10  # refused placements left no half-written order
    assert LedgerEntry.objects.filter(wallet__user=buyer, kind="charge").count() == 10
    assert ledger_violations() == []


def test_concurrent_refresh_ticks_refund_once(shop, upstream, make_reseller):
    buyer = make_reseller("paralel", deposit=1_000_000)
    orders = [
        order_place(buyer, kind="smm", service=shop.smm, link="https://instagram.com/a", quantity=1000)
        for _ in range(5)
    ]
    for order in orders:
        upstream.set_status(order.external_id, Status.PARTIAL, "Partial", remains=250)
    run_threads(6, lambda i: refresh_tick())
    for order in orders:
        order.refresh_from_db()
        assert order.status == "partial"
        assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == 1
    assert ledger_violations() == []


def test_concurrent_callback_application_settles_once(shop, upstream, make_reseller):
    buyer = make_reseller("sms", deposit=1_000_000)
    order = order_place(buyer, kind="sms", sms_type="reguler", message="Halo", recipients="081234567890 081311112222")
    recipients = list(order.recipients.all())
    for r in recipients:
        CallbackEvent.objects.create(provider=order.provider, external_id=r.external_id, code="3", state="delivered")
    run_threads(6, lambda i: callbacks_apply())
    order.refresh_from_db()
    assert order.status == "completed"
    assert order.events.filter(to_status="completed").count() == 1
    assert ledger_violations() == []


# --- the submitter: a lane of threads per provider ---------------------------------------------------------
@pytest.mark.worker_stopped
def test_a_hanging_provider_keeps_only_its_own_lane_busy(shop, upstream, buyer, monkeypatch, settings):
    settings.SUBMIT_CONCURRENCY = 4
    release = threading.Event()
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()
    original = FakeAdapter.place_order

    def place(self, request):
        if request.kind == ProductKind.PREPAID:  # this provider hangs until the test lets it answer
            with lock:
                in_flight["now"] += 1
                in_flight["most"] = max(in_flight["most"], in_flight["now"])
            release.wait(30)
            with lock:
                in_flight["now"] -= 1
        return original(self, request)

    monkeypatch.setattr(FakeAdapter, "place_order", place)
    slow = [order_place(buyer, kind="prepaid", service=shop.prepaid, target="081211112222") for _ in range(6)]
    fast = [
        order_place(buyer, kind="smm", service=shop.smm, link="https://instagram.com/tokoku", quantity=1000)
        for _ in range(30)
    ]
    results = []

    def run() -> None:
        try:
            results.append(submit_orders(budget=60, linger=0.5))
        finally:
            connections.close_all()

    runner = threading.Thread(target=run)
    runner.start()
    try:
        fast_ids = [o.pk for o in fast]
        assert wait_for(lambda: not Order.objects.filter(pk__in=fast_ids, status="submitting").exists(), 20)
        assert Order.objects.filter(pk__in=fast_ids, status="pending").count() == 30
        # The hanging provider's orders wait in its own lane, at most SUBMIT_CONCURRENCY at once.
        assert Order.objects.filter(pk__in=[o.pk for o in slow], status="submitting").count() == 6
        assert wait_for(lambda: in_flight["now"] == 4, 5)
    finally:
        release.set()
        runner.join(60)
    assert not runner.is_alive()
    assert in_flight["most"] == 4
    assert results[0].outcomes == {"accepted": 36}
    assert Order.objects.filter(status="pending").count() == 36
    assert upstream.count("place") == 36  # each order sent exactly once
    assert ledger_violations() == []
