"""Temporary admin sites for the changelist benchmark (never the real admin's registry).

- `default_site` ("benchdefault"): the baseline, Django's default changelist for orders: the same columns,
  filters, search, joins and date hierarchy as orders.admin.OrderAdmin, with Django's defaults for counting
  (show_full_result_count=True, the default Paginator and its COUNT).
- `proposed_site` ("benchproposed"): OrderAdmin itself with the fixes proposed in BENCHMARKS.md (the
  service's provider joined, an estimated count for the unfiltered list, no date hierarchy), to measure the
  proposal; `joined_site` ("benchjoined") has the first two fixes only. OrderAdmin is not changed.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from orders.admin import OrderAdmin
from orders.models import Order


class DefaultOrderAdmin(admin.ModelAdmin):
    list_display = OrderAdmin.list_display
    list_filter = OrderAdmin.list_filter
    search_fields = OrderAdmin.search_fields
    list_select_related = OrderAdmin.list_select_related
    raw_id_fields = OrderAdmin.raw_id_fields
    date_hierarchy = OrderAdmin.date_hierarchy
    show_full_result_count = True  # Django's default

    def get_urls(self):
        """Plus OrderAdmin's report URLs: the shared admin/orders/order/change_list.html links to them."""
        reports = [p for p in OrderAdmin(Order, self.admin_site).get_urls() if (p.name or "").startswith("reports_")]
        return [*reports, *super().get_urls()]


class EstimatedCountPaginator(Paginator):
    """Exact COUNT for filtered lists (they are narrow); PostgreSQL's planner estimate (pg_class.reltuples,
    kept by autovacuum/ANALYZE) for the whole table, which is what a COUNT(*) over millions of rows costs
    a full scan for. Falls back to COUNT when there is no estimate."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connections[self.object_list.db].vendor == "postgresql":
            with connections[self.object_list.db].cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return int(row[0])
        return super().count


class JoinedOrderAdmin(OrderAdmin):
    """Fixes 1 and 2 of BENCHMARKS.md: the service's provider joined, no date hierarchy (exact COUNT kept)."""

    # Service.__str__ shows its provider: without this join every row of the page costs one more query.
    list_select_related = [*OrderAdmin.list_select_related, "service__provider"]
    date_hierarchy = None  # its month links scan every row of the year (SELECT DISTINCT DATE_TRUNC(...))


class ProposedOrderAdmin(JoinedOrderAdmin):
    """All three fixes: plus the estimated count of the unfiltered list."""

    paginator = EstimatedCountPaginator


default_site = admin.AdminSite(name="benchdefault")
default_site.register(Order, DefaultOrderAdmin)
joined_site = admin.AdminSite(name="benchjoined")
joined_site.register(Order, JoinedOrderAdmin)
proposed_site = admin.AdminSite(name="benchproposed")
proposed_site.register(Order, ProposedOrderAdmin)
