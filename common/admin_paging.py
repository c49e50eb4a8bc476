"""Admin pagination for tables of millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 10_000


class EstimatedCountPaginator(Paginator):
    """An exact COUNT for filtered or searched lists (they are narrow); for the whole table, PostgreSQL's
    planner estimate (pg_class.reltuples, kept by autovacuum/ANALYZE), since an exact COUNT(*) of a million
    orders is a full scan on every page view. Small, never-analysed or non-PostgreSQL tables count exactly."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and not query.combinator:
            connection = connections[self.object_list.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [connection.ops.quote_name(self.object_list.model._meta.db_table)],
                    )
                    row = cursor.fetchone()
                if row and row[0] > ESTIMATE_ABOVE:
                    return int(row[0])
        return super().count
