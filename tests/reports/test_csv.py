"""The CSV helper: formula-injection escaping, plain numbers, BOM and header, streaming, date ranges."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orders.models import Order
from orders.reports.csv import BATCH_ROWS, csv_response, csv_stream, escape_cell, escape_text, money_cell, wib_stamper
from orders.reports.periods import DateRange, DateRangeError, parse_date_range
from orders.reports.queries import CHUNK_SIZE, ledger_rows, order_header, order_rows, profit_rows
from tests.reports.conftest import make_order, read_csv, wib


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","klik")', '\'=HYPERLINK("http://evil.example","klik")'),
        ("+6281234567890", "'+6281234567890"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("", ""),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (" =leading space stays", " =leading space stays"),
        ("'already quoted", "'already quoted"),
        ("Pulsa Telkomsel 5.000 ✓ ümlaut 日本", "Pulsa Telkomsel 5.000 ✓ ümlaut 日本"),
        ("=日本", "'=日本"),
    ],
)
def test_text_cells_are_escaped_against_formulas(raw, cell):
    assert escape_text(raw) == cell
    assert escape_cell(raw) == cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("-2500.00"), "-2500"),
        (Decimal("2500.00"), "2500"),
        (Decimal("1234.50"), "1234.50"),
        (Decimal("-0.01"), "-0.01"),
        (Decimal("0.00"), "0"),
        (Decimal("1E+3"), "1000"),
        (Decimal("999999999999.99"), "999999999999.99"),
    ],
)
def test_amounts_are_plain_numbers_never_escaped(value, cell):
    assert money_cell(value) == cell
    assert escape_cell(value) == cell


def test_other_values():
    assert escape_cell(-5) == -5 and escape_cell(42) == 42
    assert escape_cell(None) == ""
    assert escape_cell(date(2026, 11, 21)) == "2026-11-21"
    assert escape_cell(datetime(2026, 11, 21, 7, 5, tzinfo=ZoneInfo("UTC"))) == "2026-11-21 14:05"


def test_negative_amount_reaches_the_file_as_a_number():
    body = b"".join(csv_stream(["amount", "note"], [(money_cell(Decimal("-2500.00")), escape_text("-2500"))]))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1] == ["-2500", "'-2500"]  # the amount is a number; the same text in a free-text column is not


def test_wib_stamper_matches_the_slow_path_and_crosses_midnight():
    stamp = wib_stamper()
    utc = ZoneInfo("UTC")
    assert stamp(datetime(2026, 11, 20, 16, 59, 59, tzinfo=utc)) == "2026-11-20 23:59"
    assert stamp(datetime(2026, 11, 20, 16, 59, 1, tzinfo=utc)) == "2026-11-20 23:59"
    assert stamp(datetime(2026, 11, 20, 17, 0, tzinfo=utc)) == "2026-11-21 00:00"
    assert stamp(datetime(2026, 11, 21, 0, 0, tzinfo=ZoneInfo("Asia/Jakarta"))) == "2026-11-21 00:00"
    assert stamp(None) == ""


def test_bom_header_quoting_and_crlf():
    rows = [(1, 'Budi, "the" reseller', "baris\nbaru", money_cell(Decimal("15000.00")))]
    body = b"".join(csv_stream(["ID", "Name", "Note", "Amount"], rows))
    assert body.startswith(b"\xef\xbb\xbfID,Name,Note,Amount\r\n")
    assert body.count(b"\xef\xbb\xbf") == 1
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed == [["ID", "Name", "Note", "Amount"], ["1", 'Budi, "the" reseller', "baris\nbaru", "15000"]]


def test_csv_response_headers():
    response = csv_response("orders_2026-11-01_2026-11-21.csv", ["a"], iter([("x",)]))
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="orders_2026-11-01_2026-11-21.csv"'
    assert read_csv(response) == [["a"], ["x"]]
    nasty = csv_response('a"b\r\nc/../d.csv', ["a"], iter(()))
    assert nasty["Content-Disposition"] == 'attachment; filename="a_b__c_.._d.csv"'


def test_stream_pulls_rows_lazily_one_batch_at_a_time():
    pulled = 0

    def rows():
        nonlocal pulled
        for i in range(10 * BATCH_ROWS):
            pulled += 1
            yield (i, "x")

    stream = csv_stream(["n", "x"], rows())
    header = next(stream)
    assert header.startswith(b"\xef\xbb\xbf") and pulled == 0
    first = next(stream)
    assert first.count(b"\r\n") == BATCH_ROWS
    assert pulled == BATCH_ROWS  # not one row more than the chunk needs
    next(stream)
    assert pulled == 2 * BATCH_ROWS
    assert sum(chunk.count(b"\r\n") for chunk in stream) == 8 * BATCH_ROWS


@pytest.mark.django_db
def test_order_csv_memory_stays_flat_over_many_rows(services, reseller):
    """12,000 orders stream with a small Python heap: one fetched chunk (2,000 rows) and one
    output batch at a time. Holding the rows would take several times the bound."""
    smm, _ = services
    make_order(reseller, smm, at=wib("2026-11-21 10:00"), target="=evil()")
    n = 12_000
    Order.objects.bulk_create(
        [
            Order(
                user=reseller,
                kind="smm",
                service=smm,
                provider=smm.provider,
                status="completed",
                unit_price=Decimal("12000"),
                unit_cost=Decimal("10000"),
                charge=Decimal("12000"),
                cost=Decimal("10000"),
                target=f"https://instagram.com/u{i}",
                external_id=str(i),
            )
            for i in range(n)
        ],
        batch_size=4000,
    )
    Order.objects.update(created_at=wib("2026-11-21 10:00"))
    period = DateRange(date(2026, 11, 21), date(2026, 11, 21))
    started = time.monotonic()
    tracemalloc.start()
    try:
        stream = csv_stream(order_header(operator=True), order_rows(period))
        first = [next(stream), next(stream)]
        assert b"'=evil()" in first[1]
        lines = sum(chunk.count(b"\r\n") for chunk in first)
        for chunk in stream:
            lines += chunk.count(b"\r\n")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 1 + n + 1
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert time.monotonic() - started < 60


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["orders", "orders_operator", "ledger", "ledger_operator", "profit"])
def test_rows_come_from_a_chunked_iterator_and_are_pulled_lazily(which, reseller, monkeypatch):
    """Every CSV reads through QuerySet.iterator(chunk_size=...) (a server-side cursor on PostgreSQL), and no
    query runs before the first row is asked for."""
    from django.db.models.sql.compiler import SQLCompiler

    calls = []
    real = SQLCompiler.execute_sql

    def spy(self, *args, **kwargs):
        calls.append((self.query.model.__name__, kwargs.get("chunked_fetch"), kwargs.get("chunk_size")))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "execute_sql", spy)
    period = DateRange(date(2026, 11, 1), date(2026, 11, 30))
    rows = {
        "orders": lambda: order_rows(period, user=reseller),
        "orders_operator": lambda: order_rows(period),
        "ledger": lambda: ledger_rows(period, user=reseller),
        "ledger_operator": lambda: ledger_rows(period),
        "profit": lambda: profit_rows(period),
    }[which]()
    assert calls == []
    list(rows)
    streamed = [call for call in calls if call[0] in ("Order", "LedgerEntry")]
    assert streamed and all(chunked and size == CHUNK_SIZE for _model, chunked, size in streamed)


# --- date ranges -------------------------------------------------------------------------------------
TODAY = date(2026, 11, 21)


def test_range_defaults_to_the_last_30_days():
    assert parse_date_range({}, today=TODAY) == DateRange(date(2026, 10, 23), TODAY)
    assert parse_date_range({"start": "", "end": " "}, today=TODAY) == DateRange(date(2026, 10, 23), TODAY)
    assert parse_date_range({"start": "2026-11-01"}, today=TODAY) == DateRange(date(2026, 11, 1), TODAY)
    assert parse_date_range({"end": "2026-02-01"}, today=TODAY) == DateRange(date(2026, 1, 3), date(2026, 2, 1))


def test_range_bounds_are_wib_midnights():
    period = parse_date_range({"start": "2026-11-20", "end": "2026-11-21"}, today=TODAY)
    assert period.start_at.isoformat() == "2026-11-20T00:00:00+07:00"
    assert period.end_before.isoformat() == "2026-11-22T00:00:00+07:00"
    assert period.days == 2 and list(period.each_day()) == [date(2026, 11, 20), date(2026, 11, 21)]


def test_range_of_exactly_366_days_is_allowed():
    assert parse_date_range({"start": "2025-11-21", "end": "2026-11-21"}).days == 366


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "21-11-2026"}, "YYYY-MM-DD"),
        ({"start": "2026/11/21"}, "YYYY-MM-DD"),
        ({"end": "yesterday"}, "YYYY-MM-DD"),
        ({"start": "20261121"}, "YYYY-MM-DD"),
        ({"start": "2026-02-30"}, "not a real date"),
        ({"start": "2026-13-01"}, "not a real date"),
        ({"start": "0001-01-01"}, "between"),
        ({"end": "9999-12-31"}, "between"),
        ({"start": "2026-11-22", "end": "2026-11-21"}, "must not be after"),
        ({"start": "2025-01-01", "end": "2026-11-21"}, "at most 366 days"),
        ({"start": "2026-11-21\x00"}, "YYYY-MM-DD"),
    ],
)
def test_bad_ranges_raise_readable_errors(params, message):
    with pytest.raises(DateRangeError, match=message):
        parse_date_range(params, today=TODAY)
