"""The real submitter on PostgreSQL: lanes of threads per provider, so a provider that hangs keeps only its
own lane busy, and every accepted order is sent exactly once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from accounts.selectors import ledger_violations
from orders.models import Order
from orders.placement import order_place
from orders.submitter import submit_orders
from providers.adapters.types import ProductKind
from tests.helpers import requires_postgres
from tests.orders.fakes import FakeAdapter
from tests.orders.sandbox_shop import ensure_default_pricing

pytestmark = [requires_postgres, pytest.mark.worker_stopped, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _default_pricing(transactional_db):
    ensure_default_pricing()  # the tiers and markup rules a flushed database lost


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


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
        assert wait_until(lambda: not Order.objects.filter(pk__in=fast_ids, status="submitting").exists(), 20)
        assert Order.objects.filter(pk__in=fast_ids, status="pending").count() == 30
        # The hanging provider's orders wait in its own lane, at most SUBMIT_CONCURRENCY at once.
        assert Order.objects.filter(pk__in=[o.pk for o in slow], status="submitting").count() == 6
        assert wait_until(lambda: in_flight["now"] == 4, 5)
    finally:
        release.set()
        runner.join(60)
    assert not runner.is_alive()
    assert in_flight["most"] == 4
    assert results[0].outcomes == {"accepted": 36}
    assert Order.objects.filter(status="pending").count() == 36
    assert upstream.count("place") == 36  # each order sent exactly once
    assert ledger_violations() == []
