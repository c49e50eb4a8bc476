"""Random sequences of credits, charges and refunds (including retries and overdrafts) never break the
books: balance = sum of entries = last balance_after, never negative, one charge and at most one refund
per order, refunds within the charge."""

from decimal import Decimal

import pytest
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import LedgerEntry, LedgerKind
from accounts.selectors import balance_of, ledger_violations
from accounts.services import InsufficientBalance, LedgerError, wallet_credit, wallet_debit, wallet_refund

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2)
operation = st.one_of(
    st.tuples(st.just("credit"), amounts, st.integers(0, 3)),
    st.tuples(st.just("charge"), amounts, st.integers(1, 6)),
    st.tuples(st.just("refund"), amounts, st.integers(1, 6)),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=25))
def test_invariants_hold_for_any_sequence(make_reseller, ops):
    """An independent model of the wallet predicts every outcome; the database must agree."""
    user = make_reseller()
    model = Decimal("0.00")
    credits: dict[str, Decimal] = {}
    charged: dict[int, Decimal] = {}
    refunded: dict[int, Decimal] = {}
    # Examples share one test transaction: start each on order ids no earlier example used.
    order_base = (LedgerEntry.objects.aggregate(top=Max("order_id"))["top"] or 0) + 100
    for kind, amount, n in ops:
        order_id = order_base + n
        if kind == "credit":
            key = f"{user.pk}:{n}"  # a retried deposit reuses its key
            wallet_credit(user=user, amount=amount, reason="deposit", idempotency_key=key)
            if key not in credits:
                credits[key] = amount
                model += amount
        elif kind == "charge":
            if order_id in charged:
                with pytest.raises(LedgerError):
                    wallet_debit(user=user, amount=amount, reason="order", order_id=order_id)
            elif amount > model:
                with pytest.raises(InsufficientBalance):
                    wallet_debit(user=user, amount=amount, reason="order", order_id=order_id)
            else:
                wallet_debit(user=user, amount=amount, reason="order", order_id=order_id)
                charged[order_id] = amount
                model -= amount
        elif order_id not in charged or amount > charged[order_id]:
            with pytest.raises(LedgerError):
                wallet_refund(order_id=order_id, amount=amount, reason="refund")
        else:
            entry = wallet_refund(order_id=order_id, amount=amount, reason="refund")
            if order_id in refunded:
                assert entry.amount == refunded[order_id]  # a second refund is the first one
            else:
                refunded[order_id] = amount
                model += amount
        assert balance_of(user) == model
    assert ledger_violations() == []
    assert LedgerEntry.objects.filter(wallet__user=user, kind=LedgerKind.REFUND).count() == len(refunded)


@pytest.mark.django_db
def test_idempotent_credit_counts_once(make_reseller):
    user = make_reseller()
    for _ in range(3):
        wallet_credit(user=user, amount=10, reason="deposit", idempotency_key="same")
    assert balance_of(user) == Decimal("10.00")
    assert LedgerEntry.objects.filter(wallet__user=user, kind=LedgerKind.DEPOSIT).count() == 1
