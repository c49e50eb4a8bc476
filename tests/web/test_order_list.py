"""The orders list: keyset pages (?before= / ?after=), filters on the indexes, and a query budget that
does not grow with the number of orders (no COUNT, no query per row)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.selectors import OrderFilters, order_page
from tests.web.conftest import make_orders

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<td><a href="/pesanan/(\d+)/">#')


def ids_on(html: str) -> list[int]:
    return [int(i) for i in ROW.findall(html)]


def walk(client, query: str = "") -> list[int]:
    """Follow the "Older" links from the first page to the last; the ids in page order."""
    url = reverse("order_list") + query
    seen: list[int] = []
    for _ in range(100):
        html = client.get(url).content.decode()
        seen += ids_on(html)
        older = re.search(r'href="(\?[^"]*before=\d+)"', html)
        if not older:
            return seen
        url = reverse("order_list") + older.group(1).replace("&amp;", "&")
    raise AssertionError("pagination did not end")


def test_pages_walk_every_order_once_newest_first(client, busy):
    client.force_login(busy)
    seen = walk(client)
    expected = list(Order.objects.filter(user=busy).order_by("-id").values_list("pk", flat=True))
    assert seen == expected and len(seen) == 300


def test_newer_link_goes_back(client, busy):
    client.force_login(busy)
    first = ids_on(client.get(reverse("order_list")).content.decode())
    second_html = client.get(reverse("order_list") + f"?before={first[-1]}").content.decode()
    newer = re.search(r'href="\?after=(\d+)"', second_html).group(1)
    back = ids_on(client.get(reverse("order_list") + f"?after={newer}").content.decode())
    assert back == first
    assert 'data-testid="newer"' not in client.get(reverse("order_list")).content.decode()


def test_filters(client, busy, web_shop):
    client.force_login(busy)
    orders = Order.objects.filter(user=busy)
    smm_done = walk(client, "?kind=smm&status=completed")
    assert smm_done == list(orders.filter(kind="smm", status="completed").order_by("-id").values_list("pk", flat=True))
    assert smm_done

    some = orders.order_by("id")[150]
    assert walk(client, f"?q={some.pk}")[0] == some.pk
    assert walk(client, f"?q=%23{some.pk}")[0] == some.pk
    by_number = walk(client, "?q=0812-")  # nothing, but no error
    assert by_number == []
    assert set(walk(client, "?q=081234567890")) == set(
        orders.filter(target="081234567890").values_list("pk", flat=True)
    )
    assert set(walk(client, "?q=INSTAGRAM.com/p")) == set(orders.filter(kind="smm").values_list("pk", flat=True))

    today = timezone.localdate()
    week = walk(client, f"?start={(today - timedelta(days=6)).isoformat()}&end={today.isoformat()}")
    start = timezone.make_aware(timezone.datetime.combine(today - timedelta(days=6), timezone.datetime.min.time()))
    assert set(week) == set(orders.filter(created_at__gte=start).values_list("pk", flat=True))
    assert 0 < len(week) < 300


def test_filters_keep_the_pagination(client, busy):
    client.force_login(busy)
    html = client.get(reverse("order_list") + "?kind=otp").content.decode()
    assert re.search(r'href="\?kind=otp&amp;before=\d+"', html)


def test_another_resellers_orders_never_show(client, busy, make_reseller, web_shop):
    other = make_reseller("lain")
    theirs = make_orders(other, web_shop, 5)
    client.force_login(busy)
    seen = set(walk(client))
    assert not seen & {o.pk for o in theirs}
    assert walk(client, f"?q={theirs[0].pk}") == []


def _list_queries(client, user, query: str = "") -> list[str]:
    client.force_login(user)
    client.get(reverse("order_list") + query)  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("order_list") + query).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("query", ["", "?kind=smm", "?status=pending&q=0812", "?before=200&start=2020-01-01"])
def test_query_count_does_not_grow_with_orders(client, make_reseller, web_shop, query):
    few, many = make_reseller("sedikit"), make_reseller("banyak")
    make_orders(few, web_shop, 30)
    make_orders(many, web_shop, 300)
    small, big = _list_queries(client, few, query), _list_queries(client, many, query)
    assert len(small) == len(big) <= 6, big
    orders_sql = [q for q in big if '"orders_order"' in q]
    assert len(orders_sql) == 1
    assert not any("COUNT(" in q.upper() for q in big)
    assert "ORDER BY" in orders_sql[0] and "LIMIT 26" in orders_sql[0]


def test_the_list_query_uses_the_user_indexes(busy):
    """The first page of each filter walks one of the (user, ..., -id) indexes: no sort, no scan."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # 300 rows: let the planner show it can use the index
            cursor.execute("ANALYZE orders_order")  # fresh statistics, not the empty table's
            cursor.execute("SET LOCAL enable_seqscan = off")  # until the test's transaction ends
            cursor.execute("SET LOCAL enable_bitmapscan = off")  # a bitmap scan always needs a sort
    cases = [({}, "order_user_recent"), ({"kind": "smm"}, "order_user_kind_recent")]
    cases.append(({"status": "pending"}, "order_user_status_recent"))
    for filters, index in cases:
        assert len(order_page(busy, OrderFilters(**filters)).orders) == 25
        plan = Order.objects.filter(user=busy, **filters).order_by("-id")[:26].explain()
        # PostgreSQL may equally walk the primary key backwards when one reseller owns every row; what
        # matters is an index walk in -id order with no sort.
        assert index in plan or (connection.vendor == "postgresql" and "Index Scan Backward" in plan), plan
        assert "TEMP B-TREE" not in plan.upper() and "Sort" not in plan, plan
