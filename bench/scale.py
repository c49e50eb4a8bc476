"""Pages and exports at a million orders: the reseller's order list, the CSV export, the admin changelist.

Data: tooling.seed (the same code as `manage.py seed_demo`) writes 1,000 orders for 20 resellers; the order
list is measured for the heaviest of them; then 999,000 more orders for 500 more resellers are added and
the same reseller's list is measured again (its own orders are unchanged: only the table grew 1000x).

- Order list: GET of `order_list` (the first page, and the next page by its keyset link) through
  django.test.Client with force_login; median time and queries per page at both sizes.
- CSV: the operators' orders CSV (`admin:reports_orders_csv`, every order of the seeded date range, about a
  million rows) read chunk by chunk from the streamed response, against a raw csv.writer over
  values_list().iterator() of the same rows and columns, and against django-import-export's export of the
  same rows; peak growth of this process's resident memory during our export.
- Admin: GET of the orders changelist of the real OrderAdmin against Django's default changelist with its
  full count (bench.admin_sites), medians over interleaved requests.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from datetime import timedelta

from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from bench.common import Report, RssPeak, count_queries, interleaved_medians, timed

SMALL, BIG = 1_000, 1_000_000
QUICK_BIG = 20_000
IE_ROWS = 50_000  # rows django-import-export exports (see _csv)


def _seed(report: Report, resellers: int, orders: int, seed: int) -> None:
    from tooling.seed import seed_demo

    def progress(line: str) -> None:
        if "/" not in line or line.split("/")[0].replace(",", "").endswith("00000") or "100%" in line:
            report.note(f"seed: {line}")

    result = seed_demo(
        resellers=resellers, orders=orders, seed=seed, batch_size=20_000, events=False, progress=progress
    )
    report.note(f"seeded {result}")


def _get(client: Client, url: str) -> int:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    return len(response.content)


# --- order list -----------------------------------------------------------------------------------------------
def _order_list(client: Client, repeat: int) -> dict:
    from orders.selectors import OrderFilters, order_page

    url = reverse("order_list")
    user = client.session_user
    older = order_page(user, OrderFilters()).older
    next_url = f"{url}?before={older}" if older else url
    with count_queries() as first_queries:
        _get(client, url)
    with count_queries() as next_queries:
        _get(client, next_url)
    times = interleaved_medians({"first": lambda: _get(client, url), "next": lambda: _get(client, next_url)}, repeat)
    return {"first": times["first"], "next": times["next"], "queries": (len(first_queries), len(next_queries))}


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    client.session_user = user
    return client


# --- CSV --------------------------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "service__name",
    "provider__name",
    "status",
    "target",
    "quantity",
    "charge",
    "refunded",
    "cost",
    "external_id",
)


def _raw_csv(queryset) -> tuple[int, int]:
    """The floor: csv.writer over values_list().iterator(), encoded in ~64 KB chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = size = 0
    for row in queryset.values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        writer.writerow(row)
        rows += 1
        if buffer.tell() > 65_536:
            size += len(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    size += len(buffer.getvalue().encode())
    return rows, size


def _view_csv(client: Client, url: str) -> tuple[int, int]:
    response = client.get(url)
    if response.status_code != 200 or not response.streaming:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}, streaming={response.streaming}")
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\r\n")
        size += len(chunk)
    return lines - 1, size  # minus the header


def _import_export_csv(queryset) -> tuple[int, int]:
    from import_export import fields, resources

    from orders.models import Order

    class OrderResource(resources.ModelResource):
        service = fields.Field(attribute="service__name", column_name="service")
        provider = fields.Field(attribute="provider__name", column_name="provider")

        class Meta:
            model = Order
            fields = (
                "id",
                "created_at",
                "kind",
                "service",
                "provider",
                "status",
                "target",
                "quantity",
                "charge",
                "refunded",
                "cost",
                "external_id",
            )
            export_order = fields

    dataset = OrderResource().export(queryset=queryset.select_related("service", "provider"))
    text = dataset.csv
    return len(dataset), len(text.encode())


def _csv(report: Report, quick: bool) -> None:
    from accounts.models import User
    from orders.models import Order
    from orders.reports.periods import DateRange, today_wib

    end = today_wib()
    start = end - timedelta(days=200)
    period = DateRange(start, end)
    queryset = Order.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_before).order_by("id")
    rows_expected = queryset.count()
    operator = User.objects.create_superuser("bench-operator", "ops@example.com", "bench-Operator-1")
    client = _login(operator)
    url = reverse("admin:reports_orders_csv") + f"?start={start.isoformat()}&end={end.isoformat()}"

    _view_csv(client, url.replace(start.isoformat(), (end - timedelta(days=1)).isoformat()))  # warm-up
    with RssPeak() as memory:
        ours_time, (ours_rows, ours_bytes) = timed(lambda: _view_csv(client, url))
    raw_time, (raw_rows, raw_bytes) = timed(lambda: _raw_csv(queryset))
    report.note(
        f"orders CSV: view {ours_rows:,} rows / {ours_bytes / 1e6:.0f} MB in {ours_time:.1f} s; raw csv.writer "
        f"{raw_rows:,} rows / {raw_bytes / 1e6:.0f} MB in {raw_time:.1f} s (expected {rows_expected:,} rows)"
    )
    if ours_rows != rows_expected:
        report.note(f"WARNING: the view wrote {ours_rows:,} lines for {rows_expected:,} orders")
    ours_rate, raw_rate = ours_rows / ours_time, raw_rows / raw_time
    report.add(
        f"orders CSV export ({ours_rows:,} rows)",
        ours_rate,
        unit="rows/s",
        baseline=raw_rate,
        baseline_label="raw csv.writer over values_list().iterator()",
        target=">= 0.5",
    )
    # django-import-export builds the whole file in memory at ~2,000 rows/s here (a million rows would take
    # ~8 minutes and gigabytes): it exports the newest days holding IE_ROWS orders, and our view the same days.
    days = 1
    while days < 200:
        recent = DateRange(end - timedelta(days=days - 1), end)
        if Order.objects.filter(created_at__gte=recent.start_at, created_at__lt=recent.end_before).count() >= IE_ROWS:
            break
        days += 1
    recent = DateRange(end - timedelta(days=days - 1), end)
    subset = Order.objects.filter(created_at__gte=recent.start_at, created_at__lt=recent.end_before).order_by("id")
    subset_url = reverse("admin:reports_orders_csv") + "?" + recent.as_query()
    view_time, (view_rows, _size) = timed(lambda: _view_csv(client, subset_url))
    ie_time, (ie_rows, ie_bytes) = timed(lambda: _import_export_csv(subset))
    report.note(
        f"last {days} days: view {view_rows:,} rows in {view_time:.2f} s; django-import-export {ie_rows:,} rows / "
        f"{ie_bytes / 1e6:.0f} MB in {ie_time:.1f} s"
    )
    report.add(
        f"orders CSV export ({view_rows:,} rows) vs django-import-export",
        view_rows / view_time,
        unit="rows/s",
        baseline=ie_rows / ie_time,
        baseline_label="django-import-export Resource.export().csv of the same rows",
        target=">= 2",
    )
    report.add("peak memory growth during the CSV export", memory.growth / 2**20, unit="MB", target="<= 64")
    client.logout()


# --- admin ------------------------------------------------------------------------------------------------------
def _timed_queries(client: Client, url: str) -> list[tuple[float, str]]:
    """Each SQL statement of one request with its time, slowest first."""
    seen: list[tuple[float, str]] = []

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((time.perf_counter() - started, sql))

    with connection.execute_wrapper(wrapper):
        _get(client, url)
    return sorted(seen, reverse=True)


@override_settings(ROOT_URLCONF="bench.urls")
def _admin(report: Report, quick: bool, rows: int) -> None:
    from accounts.models import User

    operator = User.objects.filter(username="bench-operator").first() or User.objects.create_superuser(
        "bench-operator", "ops@example.com", "bench-Operator-1"
    )
    client = _login(operator)
    urls = {
        "ours": reverse("admin:orders_order_changelist"),
        "default": reverse("benchdefault:orders_order_changelist"),
    }
    for name, url in urls.items():
        queries = _timed_queries(client, url)
        slow = "; ".join(f"{t * 1000:.0f} ms {sql[:90]}" for t, sql in queries[:3])
        repeated, times = Counter(sql for _t, sql in queries).most_common(1)[0]
        report.note(f"admin {name}: {len(queries)} queries ({times}x the same: {repeated[:80]}...); slowest: {slow}")
    repeat = 3 if quick else 7
    times = interleaved_medians({name: (lambda url=url: _get(client, url)) for name, url in urls.items()}, repeat)
    report.add(
        f"admin orders changelist at {rows:,} rows (OrderAdmin)",
        times["ours"],
        unit="s",
        baseline=times["default"],
        baseline_label="Django's default changelist with its full count",
        target="<= 0.5",
        note=f"median of {repeat}",
    )


# --- the group ----------------------------------------------------------------------------------------------------
def run(report: Report, *, names=None, quick: bool = False, prefix: str) -> None:
    from accounts.models import User
    from orders.models import Order

    names = names or ["orderlist", "csv", "admin"]
    big = QUICK_BIG if quick else BIG
    repeat = 10 if quick else 30
    small_result = None
    if "orderlist" in names:
        _seed(report, resellers=20, orders=SMALL, seed=1)
        reseller = User.objects.get(username="seed-00001")
        own = Order.objects.filter(user=reseller).count()
        small_result = _order_list(_login(reseller), repeat)
        report.note(
            f"order list at {Order.objects.count():,} orders ({reseller.username}: {own:,} own orders): "
            f"first page {small_result['first'] * 1000:.1f} ms, next page {small_result['next'] * 1000:.1f} ms, "
            f"queries {small_result['queries']}"
        )
    started = time.monotonic()
    existing = Order.objects.count()
    _seed(report, resellers=500, orders=big - existing, seed=2)
    total = Order.objects.count()
    report.add(f"seed_demo of {big - existing:,} orders", time.monotonic() - started, unit="s")

    if small_result is not None:
        reseller = User.objects.get(username="seed-00001")
        result = _order_list(_login(reseller), repeat)
        report.note(
            f"order list at {total:,} orders: first page {result['first'] * 1000:.1f} ms, next page "
            f"{result['next'] * 1000:.1f} ms, queries {result['queries']}"
        )
        report.add(
            f"order list page at {total:,} vs {SMALL:,} orders in the table",
            result["first"],
            unit="s",
            baseline=small_result["first"],
            baseline_label=f"same page at {SMALL:,} orders",
            target="<= 1.5",
            note=f"median of {repeat}, first page; next page {result['next'] / small_result['next']:.2f}x",
        )
        most = max(*small_result["queries"], *result["queries"])
        same = small_result["queries"] == result["queries"]
        report.add(
            "order list queries per page (both sizes)",
            most,
            unit="queries",
            target="<= 10",
            note=f"{small_result['queries']} at {SMALL:,}, {result['queries']} at {total:,}: "
            + ("same" if same else "DIFFERENT"),
        )
        heavy = User.objects.get(username="seed-00021")
        heavy_result = _order_list(_login(heavy), repeat)
        report.add(
            f"order list page of the heaviest reseller ({Order.objects.filter(user=heavy).count():,} own orders)",
            heavy_result["first"],
            unit="s",
            baseline=small_result["first"],
            baseline_label=f"a {own:,}-order reseller at {SMALL:,} orders",
            note=f"queries {heavy_result['queries']}",
        )
    if "csv" in names:
        _csv(report, quick)
    if "admin" in names:
        _admin(report, quick, total)
    connection.close()
