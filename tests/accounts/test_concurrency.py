"""20 concurrent debits against a balance that covers 10: exactly 10 succeed (PostgreSQL only)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.models import LedgerEntry, LedgerKind
from accounts.selectors import balance_of, ledger_violations
from accounts.services import InsufficientBalance, wallet_debit, wallet_refund
from tests.helpers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _run_concurrently(n: int, work) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                results[i] = work(i)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_twenty_debits_against_balance_for_ten(make_reseller):
    user = make_reseller("racer", deposit=10_000)
    results = _run_concurrently(20, lambda i: wallet_debit(user=user, amount=1000, reason="order", order_id=1000 + i))
    ok = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(ok) == 10, results
    assert len(refused) == 10, results
    assert balance_of(user) == Decimal("0.00")
    assert sorted(e.balance_after for e in ok) == [Decimal(i * 1000) for i in range(10)]
    assert ledger_violations() == []


def test_concurrent_refunds_of_one_order_pay_once(make_reseller):
    user = make_reseller("refunder", deposit=10_000)
    wallet_debit(user=user, amount=4000, reason="order", order_id=77)
    results = _run_concurrently(10, lambda i: wallet_refund(order_id=77, amount=4000, reason=f"refund {i}"))
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert LedgerEntry.objects.filter(order_id=77, kind=LedgerKind.REFUND).count() == 1
    assert balance_of(user) == Decimal("10000.00")
    assert ledger_violations() == []
