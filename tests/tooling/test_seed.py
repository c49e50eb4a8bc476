"""seed_demo: realistic data of every kind and status whose books balance (ledger_check clean)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from accounts.models import LedgerEntry, Wallet
from accounts.money import ZERO
from accounts.selectors import ledger_violations
from orders.models import Order
from orders.quotes import order_amounts
from orders.services import refund_due
from providers.adapters.types import Status
from tooling import seed
from tooling.seed import seed_demo

pytestmark = pytest.mark.django_db


def test_seeded_orders_cover_every_kind_and_status_and_the_ledger_is_clean():
    seed_demo(resellers=6, orders=3000, seed=3, batch_size=1000)
    assert Order.objects.count() == 3000
    pairs = set(Order.objects.values_list("kind", "status").distinct())
    assert {kind for kind, _ in pairs} == {"otp", "smm", "sms", "prepaid"}
    assert {"completed", "failed", "canceled", "pending", "processing", "unknown"} <= {s for _, s in pairs}
    per_user = sorted(Order.objects.values("user").annotate(n=Count("pk")).values_list("n", flat=True))
    assert per_user[-1] > 3 * per_user[0]  # skewed toward a few heavy resellers
    assert ledger_violations() == []


def test_orders_still_in_flight_are_never_refunded():
    """A window of minutes makes many orders young enough to be still `submitting` (in flight); one drawn as
    refused used to keep its refund with no finish time and crashed the seeder."""
    seed_demo(resellers=3, orders=3000, months=0.0001, seed=1, batch_size=1000)
    in_flight = Order.objects.filter(status__in=["submitting", "pending", "processing", "unknown"])
    assert in_flight.exists()
    assert not in_flight.filter(refunded__gt=0).exclude(kind="sms").exists()
    assert not Order.objects.filter(refunded__gt=F("charge")).exists()
    assert ledger_violations() == []


def test_command_prints_progress_and_checks(capsys):
    call_command("seed_demo", "--resellers", "2", "--orders", "300", "--seed", "1", "--check")
    out = capsys.readouterr().out
    assert "300" in out and "ledger_check: ok" in out


def test_the_seeded_books_are_the_ledger_services_and_the_order_formulas(monkeypatch):
    """Every seeded ledger entry was posted by accounts.services.ledger_post_many, and every order's charge
    and refund are what the order code's own formulas give for it: its quote (order_amounts) and refund_due,
    which reads back the SMS recipients the gateway rejected."""
    posted: list[int] = []

    def spy(postings, **options):
        ids = real(postings, **options)
        posted.extend(ids)
        return ids

    real = seed.ledger_post_many
    monkeypatch.setattr(seed, "ledger_post_many", spy)
    seed_demo(resellers=4, orders=3000, seed=5, batch_size=500)

    assert ledger_violations() == []
    assert sorted(posted) == list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True))
    charges = dict(LedgerEntry.objects.filter(kind="charge").values_list("order_id", "amount"))
    refunds = dict(LedgerEntry.objects.filter(kind="refund").values_list("order_id", "amount"))
    partial = 0
    for order in Order.objects.all():
        status = Status(order.status)
        quoted = order_amounts(order.kind, order.unit_price, order.unit_cost, order.quantity)
        assert (order.charge, order.cost) == quoted
        assert charges[order.pk] == -order.charge
        due = refund_due(order, status) if status.is_final else ZERO
        assert order.refunded == due == refunds.get(order.pk, ZERO), order
        partial += status == Status.PARTIAL and ZERO < due < order.charge
    assert partial > 50  # partial refunds of SMM and SMS orders, not only whole ones
    assert Wallet.objects.filter(user__username__startswith="seed-", balance__gt=0).exists()
