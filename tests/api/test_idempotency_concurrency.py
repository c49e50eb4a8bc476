"""Concurrent retries with one Idempotency-Key on PostgreSQL: the database's unique (reseller, key) lets one
request run; the others wait for its reply and replay it, so the reseller is charged once."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.models import LedgerEntry
from accounts.selectors import balance_of, ledger_violations
from orders.models import IdempotentRequest, Order
from tests.api.conftest import START
from tests.helpers import requires_postgres
from tests.orders.test_concurrency import run_threads

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

KEY = "retry-7f3c"


@pytest.fixture
def slow_placement(monkeypatch):
    """The first request holds the key for a while, so the others really arrive while it runs."""
    from orders.api import smm_v2

    original = smm_v2.order_place

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(smm_v2, "order_place", slow)


def add(who, catalogue, quantity: str = "1000"):
    data = {"key": who.key, "action": "add", "service": str(catalogue.smm.pk), "link": "https://x.com/a"}
    return Client().post("/api/v2", {**data, "quantity": quantity}, headers={"Idempotency-Key": KEY})


def test_eight_concurrent_retries_place_one_order(api_user, catalogue, upstream, slow_placement):
    replies = run_threads(8, lambda i: add(api_user, catalogue))
    assert all(getattr(r, "status_code", None) == 200 for r in replies), replies
    assert len({r.content for r in replies}) == 1  # every retry got the first reply
    assert sum(1 for r in replies if r.get("Idempotent-Replayed") == "true") == 7
    order = Order.objects.get()
    assert LedgerEntry.objects.filter(wallet__user=api_user.user, kind="charge").count() == 1
    assert balance_of(api_user.user) == START - order.charge
    assert IdempotentRequest.objects.get().status_code == 200
    assert ledger_violations() == []


def test_concurrent_different_requests_with_one_key_place_one(api_user, catalogue, upstream, slow_placement):
    replies = run_threads(4, lambda i: add(api_user, catalogue, quantity=str(1000 + i)))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 409, 409, 409], replies
    assert Order.objects.count() == 1
    assert balance_of(api_user.user) == START - Order.objects.get().charge
