"""The admin's estimated count: the whole-table total of a big list is PostgreSQL's planner estimate (no
COUNT(*) scan per page view); a filtered list, a small table or another database counts exactly."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LedgerEntry
from common import admin_paging
from common.admin_paging import EstimatedCountPaginator
from tests.helpers import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(make_reseller) -> int:
    for n in range(3):
        make_reseller(f"toko{n}", deposit=10_000 * (n + 1))
    return LedgerEntry.objects.count()


def _count(queryset) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        total = EstimatedCountPaginator(queryset, 50).count
    return total, "\n".join(q["sql"] for q in ctx.captured_queries)


@requires_postgres
def test_unfiltered_big_table_uses_the_planner_estimate(entries, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_ledgerentry")  # counts this transaction's own rows too
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'accounts_ledgerentry'")
        estimate = cursor.fetchone()[0]
    monkeypatch.setattr(admin_paging, "ESTIMATE_ABOVE", 0)  # as if the table held millions
    total, sql = _count(LedgerEntry.objects.all())
    assert total == estimate == entries
    assert "reltuples" in sql and "COUNT(" not in sql.upper()


def test_filtered_lists_count_exactly(entries, monkeypatch):
    monkeypatch.setattr(admin_paging, "ESTIMATE_ABOVE", 0)
    total, sql = _count(LedgerEntry.objects.filter(amount__gt=15_000))
    assert total == 2 and "COUNT(" in sql.upper() and "reltuples" not in sql


def test_small_tables_count_exactly(entries):
    total, sql = _count(LedgerEntry.objects.all())
    assert total == entries and "COUNT(" in sql.upper()


def test_big_admin_lists_use_it():
    from django.contrib import admin

    from orders.models import Order

    assert admin.site._registry[Order].paginator is EstimatedCountPaginator
    assert admin.site._registry[LedgerEntry].paginator is EstimatedCountPaginator
