"""ledger_post_many: many movements at once, under the rules and with the rows of the one-at-a-time services."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import DepositRequest, DepositStatus, LedgerEntry, Wallet
from accounts.selectors import balance_of, ledger_violations
from accounts.services import (
    InsufficientBalance,
    LedgerError,
    Posting,
    deposit_approve,
    deposit_request_create,
    ledger_post_many,
    wallet_credit,
    wallet_debit,
    wallet_refund,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def _minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def _wallet(user) -> int:
    return Wallet.objects.get(user=user).pk


def _unchanged():
    """The state a refused lot must leave behind."""
    return (
        list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        list(DepositRequest.objects.order_by("pk").values_list("pk", flat=True)),
        list(Wallet.objects.order_by("pk").values_list("pk", "balance")),
    )


def test_rows_are_those_the_one_at_a_time_services_write(make_reseller, operator):
    one, many = make_reseller(), make_reseller()
    request = deposit_request_create(user=one, amount=250_000, method="qris")
    deposit_approve(request, actor=operator)
    wallet_debit(user=one, amount="30000", reason="Order #1", order_id=1, actor=operator)
    wallet_refund(order_id=1, amount="12000.50", reason="Refund for order #1", actor=operator)

    wallet = _wallet(many)
    ids = ledger_post_many(
        [
            Posting(wallet, "deposit", Decimal("250000.00"), _minutes(1), deposit_method="qris", requested_at=T0),
            Posting(wallet, "charge", Decimal("-30000.00"), _minutes(2), order_id=2, reason="Order #2"),
            Posting(wallet, "refund", Decimal("12000.50"), _minutes(3), order_id=2, reason="Refund for order #2"),
        ],
        actor=operator,
    )

    def shape(user):
        entries = LedgerEntry.objects.filter(wallet__user=user).order_by("pk")
        return [(e.kind, e.amount, e.balance_after, re.sub(r"\d+", "N", e.reason), e.actor_id) for e in entries]

    assert shape(many) == shape(one)
    assert list(LedgerEntry.objects.filter(wallet__user=many).order_by("pk").values_list("pk", flat=True)) == ids
    assert [LedgerEntry.objects.get(pk=pk).created_at for pk in ids] == [_minutes(1), _minutes(2), _minutes(3)]
    by_hand, bulk = DepositRequest.objects.get(user=one), DepositRequest.objects.get(user=many)
    for request in (by_hand, bulk):
        assert request.status == DepositStatus.APPROVED and request.decided_by == operator
        assert request.ledger_entry.idempotency_key == f"deposit:{request.pk}"
        assert request.amount == request.ledger_entry.amount == Decimal("250000.00")
        assert (request.method, request.note, request.decision_note) == ("qris", "", "")
    assert (bulk.created_at, bulk.decided_at, bulk.ledger_entry_id) == (T0, _minutes(1), ids[0])
    wallet = Wallet.objects.get(user=many)
    assert wallet.balance == balance_of(one) == Decimal("232000.50")
    assert wallet.updated_at == _minutes(3)
    assert ledger_violations() == []


def test_a_refund_of_an_order_charged_earlier_is_checked_against_that_charge(reseller):
    wallet_debit(user=reseller, amount="40000", reason="Order #7", order_id=7)
    with pytest.raises(LedgerError, match="exceeds its charge"):
        ledger_post_many([Posting(_wallet(reseller), "refund", Decimal("40000.01"), T0, order_id=7)])
    ledger_post_many([Posting(_wallet(reseller), "refund", Decimal("40000.00"), T0, order_id=7)])
    assert balance_of(reseller) == Decimal("100000.00")
    assert ledger_violations() == []


@pytest.mark.parametrize(
    ("postings", "error"),
    [
        # the second charge is not covered: the first one, already accepted, is rolled back with it
        ([("charge", "-60000", 1), ("charge", "-60000", 2)], InsufficientBalance),
        ([("charge", "-100", 1), ("refund", "100.01", 1)], LedgerError),  # more than the charge
        ([("refund", "100", 1), ("charge", "-100", 1)], LedgerError),  # a refund before its charge
        ([("charge", "-100", 1), ("charge", "-100", 1)], LedgerError),  # one charge per order (constraint)
        ([("charge", "-100", 1), ("refund", "10", 1), ("refund", "10", 1)], LedgerError),  # one refund
        ([("charge", "100", 1)], LedgerError),  # a charge is a debit
        ([("charge", "-100", None)], LedgerError),  # for an order
        ([("deposit", "-100", None)], LedgerError),
        ([("refund", "-1", 1)], LedgerError),
        ([("fee", "-1", None)], LedgerError),
        ([("adjustment", "0", None)], LedgerError),
        ([("adjustment", "0.001", None)], LedgerError),  # not to the cent
    ],
)
def test_a_lot_that_breaks_a_rule_writes_nothing(reseller, postings, error):
    before = _unchanged()
    lot = [Posting(_wallet(reseller), kind, Decimal(amount), T0, order_id=o) for kind, amount, o in postings]
    with pytest.raises(error):
        ledger_post_many(lot)
    assert _unchanged() == before


def test_refused_shapes_of_a_posting(make_reseller, reseller):
    other = make_reseller(deposit=1000)
    wallet_debit(user=reseller, amount="500", reason="Order #3", order_id=3)
    before = _unchanged()
    for lot in (
        [Posting(_wallet(other), "refund", Decimal("500.00"), T0, order_id=3)],  # not the wallet it was charged to
        [Posting(_wallet(reseller), "refund", Decimal("1.00"), T0, order_id=4)],  # never charged
        [Posting(_wallet(reseller), "adjustment", 1.5, T0)],  # a float never reaches the ledger
        [Posting(_wallet(reseller), "charge", Decimal("-1.00"), T0, order_id=5, deposit_method="bank")],
        [Posting(_wallet(reseller), "deposit", Decimal("1.00"), T0, deposit_method="cash")],
        [Posting(Wallet.objects.aggregate(top=Max("pk"))["top"] + 1, "deposit", Decimal("1.00"), T0)],
    ):
        with pytest.raises(LedgerError):
            ledger_post_many(lot)
    assert _unchanged() == before


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2)
operation = st.one_of(
    st.tuples(st.just("credit"), amounts, st.just(0)),
    st.tuples(st.just("charge"), amounts, st.integers(1, 6)),
    st.tuples(st.just("refund"), amounts, st.integers(1, 6)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=25))
def test_in_bulk_the_books_come_out_as_one_at_a_time(make_reseller, ops):
    """The same movements, one at a time on one wallet (refused ones left out) and in one lot on another:
    the same entries, running balances and balance."""
    one, many = make_reseller(), make_reseller()
    base = (LedgerEntry.objects.aggregate(top=Max("order_id"))["top"] or 0) + 100
    lot: list[Posting] = []
    for i, (kind, amount, n) in enumerate(ops):
        before = LedgerEntry.objects.count()
        try:
            if kind == "credit":
                wallet_credit(user=one, amount=amount, reason="deposit")
            elif kind == "charge":
                wallet_debit(user=one, amount=amount, reason="order", order_id=base + n)
            else:
                wallet_refund(order_id=base + n, amount=amount, reason="refund")
        except LedgerError:
            continue
        if LedgerEntry.objects.count() > before:  # (a repeated refund returns the first one)
            kind = {"credit": "deposit"}.get(kind, kind)
            signed = -amount if kind == "charge" else amount
            order = None if kind == "deposit" else base + 50 + n
            lot.append(Posting(_wallet(many), kind, signed, _minutes(i), order_id=order, reason=kind))
    ledger_post_many(lot)

    def books(user):
        entries = LedgerEntry.objects.filter(wallet__user=user).order_by("pk")
        return list(entries.values_list("kind", "amount", "balance_after"))

    assert books(many) == books(one)
    assert balance_of(many) == balance_of(one)
    assert ledger_violations() == []
