from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import LedgerEntry, LedgerKind, Wallet
from accounts.selectors import balance_of, ledger_violations
from accounts.services import (
    InsufficientBalance,
    LedgerError,
    wallet_adjust,
    wallet_credit,
    wallet_debit,
    wallet_refund,
)

pytestmark = pytest.mark.django_db


def test_credit_and_debit_write_entries_with_running_balance(reseller):
    entry = wallet_debit(user=reseller, amount="30000", reason="order", order_id=1)
    assert entry.kind == LedgerKind.CHARGE
    assert entry.amount == Decimal("-30000.00")
    assert entry.balance_after == Decimal("70000.00")
    assert balance_of(reseller) == Decimal("70000.00")
    credit = wallet_credit(user=reseller, amount=5000, reason="top up")
    assert credit.balance_after == Decimal("75000.00")
    assert ledger_violations() == []


def test_debit_beyond_balance_changes_nothing(reseller):
    before = LedgerEntry.objects.count()
    with pytest.raises(InsufficientBalance, match=r"Rp 100\.000"):
        wallet_debit(user=reseller, amount="100000.01", reason="order", order_id=1)
    assert balance_of(reseller) == Decimal("100000.00")
    assert LedgerEntry.objects.count() == before


def test_debit_of_exact_balance_reaches_zero(reseller):
    wallet_debit(user=reseller, amount=100_000, reason="order", order_id=1)
    assert balance_of(reseller) == Decimal("0.00")


@pytest.mark.parametrize("amount", [0, -5, "0.00"])
def test_amounts_must_be_positive(reseller, amount):
    with pytest.raises(LedgerError):
        wallet_credit(user=reseller, amount=amount, reason="x")
    with pytest.raises(LedgerError):
        wallet_debit(user=reseller, amount=amount, reason="x", order_id=1)


def test_second_charge_for_an_order_is_refused_and_leaves_balance(reseller):
    wallet_debit(user=reseller, amount=1000, reason="order", order_id=7)
    with pytest.raises(LedgerError, match="sudah dibayar"):
        wallet_debit(user=reseller, amount=1000, reason="order again", order_id=7)
    assert balance_of(reseller) == Decimal("99000.00")


def test_refund_is_exactly_once(reseller):
    wallet_debit(user=reseller, amount=4000, reason="order", order_id=9)
    first = wallet_refund(order_id=9, amount=4000, reason="failed")
    second = wallet_refund(order_id=9, amount=4000, reason="failed again")
    assert first.pk == second.pk
    assert LedgerEntry.objects.filter(order_id=9, kind=LedgerKind.REFUND).count() == 1
    assert balance_of(reseller) == Decimal("100000.00")


def test_partial_refund_then_second_refund_returns_the_first(reseller):
    wallet_debit(user=reseller, amount=4000, reason="order", order_id=9)
    wallet_refund(order_id=9, amount=1500, reason="partial")
    again = wallet_refund(order_id=9, amount=4000, reason="canceled later")
    assert again.amount == Decimal("1500.00")
    assert balance_of(reseller) == Decimal("97500.00")


def test_refund_cannot_exceed_charge_or_exist_without_one(reseller):
    wallet_debit(user=reseller, amount=4000, reason="order", order_id=9)
    with pytest.raises(LedgerError, match="exceeds"):
        wallet_refund(order_id=9, amount="4000.01", reason="too much")
    with pytest.raises(LedgerError, match="no charge"):
        wallet_refund(order_id=10, amount=1, reason="nothing to refund")
    assert ledger_violations() == []


def test_refund_goes_to_the_wallet_that_paid(make_reseller):
    a = make_reseller("a", deposit=10_000)
    b = make_reseller("b", deposit=10_000)
    wallet_debit(user=a, amount=3000, reason="order", order_id=1)
    wallet_refund(order_id=1, amount=3000, reason="failed")
    assert balance_of(a) == Decimal("10000.00")
    assert balance_of(b) == Decimal("10000.00")


def test_idempotency_key_makes_a_retried_credit_pay_once(reseller):
    one = wallet_credit(user=reseller, amount=50_000, reason="deposit #5", idempotency_key="deposit:5")
    two = wallet_credit(user=reseller, amount=50_000, reason="deposit #5", idempotency_key="deposit:5")
    assert one.pk == two.pk
    assert balance_of(reseller) == Decimal("150000.00")


def test_adjust_needs_reason_and_cannot_go_negative(reseller, operator):
    with pytest.raises(LedgerError, match="alasan"):
        wallet_adjust(user=reseller, amount=-10, reason="  ", actor=operator)
    with pytest.raises(InsufficientBalance):
        wallet_adjust(user=reseller, amount=-100_001, reason="correction", actor=operator)
    entry = wallet_adjust(user=reseller, amount=-100_000, reason="correction", actor=operator)
    assert entry.kind == LedgerKind.ADJUSTMENT and entry.actor == operator
    assert balance_of(reseller) == Decimal("0.00")


def test_entries_are_append_only(reseller):
    entry = LedgerEntry.objects.filter(wallet__user=reseller).first()
    entry.reason = "edited"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


# --- the database itself refuses broken money, whatever code tries -----------------------------
def test_database_refuses_negative_wallet_balance(reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user=reseller).update(balance=Decimal("-1"))


def test_database_refuses_second_charge_for_an_order(reseller):
    wallet = reseller.wallet
    LedgerEntry.objects.create(wallet=wallet, kind="charge", amount=-1, balance_after=0, order_id=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(wallet=wallet, kind="charge", amount=-1, balance_after=0, order_id=3)


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "charge", "amount": 5, "order_id": 1},  # a charge must take money
        {"kind": "charge", "amount": -5, "order_id": None},  # a charge must name its order
        {"kind": "refund", "amount": -5, "order_id": 1},  # a refund must give money
        {"kind": "deposit", "amount": -5, "order_id": None},
        {"kind": "adjustment", "amount": 0, "order_id": None},
        {"kind": "bonus", "amount": 5, "order_id": None},
    ],
)
def test_database_refuses_entries_with_wrong_sign_or_kind(reseller, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(wallet=reseller.wallet, balance_after=0, **fields)


def test_ledger_check_reports_tampering(reseller):
    assert ledger_violations() == []
    Wallet.objects.filter(user=reseller).update(balance=Decimal("5"))
    problems = ledger_violations()
    assert any("sum of entries" in p for p in problems)


def test_cent_amounts_stay_exact_on_every_database(make_reseller):
    """0.30 - 0.10 - 0.20 must be exactly zero (SQLite keeps decimals as REAL; the services round)."""
    user = make_reseller(deposit=None)
    wallet_credit(user=user, amount="0.30", reason="deposit")
    wallet_debit(user=user, amount="0.10", reason="order", order_id=501)
    wallet_debit(user=user, amount="0.20", reason="order", order_id=502)
    assert balance_of(user) == Decimal("0.00")
    assert ledger_violations() == []
