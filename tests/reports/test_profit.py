"""The profit report: exact numbers on a known dataset (two providers, two WIB days around midnight),
the CSV, and the admin screen with its inline SVG chart."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.reports.charts import daily_chart
from orders.reports.periods import DateRange
from orders.reports.queries import profit_report
from tests.reports.conftest import make_order, read_csv, wib

pytestmark = pytest.mark.django_db

PERIOD = DateRange(date(2026, 11, 20), date(2026, 11, 21))
D20, D21 = date(2026, 11, 20), date(2026, 11, 21)


@pytest.fixture
def dataset(services, reseller):
    smm, pulsa = services
    # 20 Nov WIB
    make_order(reseller, smm, at=wib("2026-11-20 23:59"), charge="12000", cost="10000")  # completed
    make_order(reseller, pulsa, at=wib("2026-11-20 07:00"), charge="6000", cost="5500")  # 00:00 UTC
    # 21 Nov WIB (00:00 WIB is still 20 Nov in UTC)
    make_order(
        reseller, smm, at=wib("2026-11-21 00:00"), status="partial", charge="12000", cost="10000", refunded="3600"
    )  # 70% delivered: cost 7000
    make_order(
        reseller, smm, at=wib("2026-11-21 12:00"), status="canceled", charge="24000", cost="20000", refunded="24000"
    )
    make_order(
        reseller, smm, at=wib("2026-11-21 09:00"), status="partial", charge="300", cost="100", refunded="100"
    )  # cost 100 x 200/300 = 66.666.. -> 66.67
    make_order(
        reseller, pulsa, at=wib("2026-11-21 23:30"), status="failed", charge="6000", cost="5500", refunded="6000"
    )
    # outside the range, by a second
    make_order(reseller, smm, at=wib("2026-11-19 23:59:59"), charge="99000", cost="1000")
    make_order(reseller, pulsa, at=wib("2026-11-22 00:00"), charge="99000", cost="1000")
    return smm, pulsa


def _line(line):
    return (line.orders, line.revenue, line.cost, line.margin)


def test_profit_numbers_are_exact(dataset):
    report = profit_report(PERIOD)
    rows = {(row.day, row.provider): _line(row) for row in report.rows}
    assert rows == {
        (D20, "SMM Pusat"): (1, Decimal("12000"), Decimal("10000"), Decimal("2000")),
        (D20, "Pulsa"): (1, Decimal("6000"), Decimal("5500"), Decimal("500")),
        (D21, "SMM Pusat"): (3, Decimal("8600"), Decimal("7066.67"), Decimal("1533.33")),
        (D21, "Pulsa"): (1, Decimal("0"), Decimal("0"), Decimal("0")),
    }
    assert [(row.day, row.provider) for row in report.rows] == [
        (D20, "Pulsa"),
        (D20, "SMM Pusat"),
        (D21, "Pulsa"),
        (D21, "SMM Pusat"),
    ]
    assert [(line.label, *_line(line)) for line in report.by_day] == [
        (D20, 2, Decimal("18000"), Decimal("15500"), Decimal("2500")),
        (D21, 4, Decimal("8600"), Decimal("7066.67"), Decimal("1533.33")),
    ]
    assert [(line.label, *_line(line)) for line in report.by_provider] == [
        ("Pulsa", 2, Decimal("6000"), Decimal("5500"), Decimal("500")),
        ("SMM Pusat", 4, Decimal("20600"), Decimal("17066.67"), Decimal("3533.33")),
    ]
    assert _line(report.total) == (6, Decimal("26600"), Decimal("22566.67"), Decimal("4033.33"))
    assert report.total.margin_pct == Decimal("15.2")
    assert report.by_day[1].margin_pct == Decimal("17.8")


def test_empty_days_are_in_the_daily_series():
    report = profit_report(DateRange(date(2026, 11, 1), date(2026, 11, 3)))
    assert [line.label for line in report.by_day] == [date(2026, 11, d) for d in (1, 2, 3)]
    assert report.rows == [] and report.by_provider == [] and report.total.orders == 0
    assert report.total.margin_pct is None


def test_profit_csv(client, operator, dataset):
    client.force_login(operator)
    response = client.get(reverse("admin:reports_profit_csv"), {"start": "2026-11-20", "end": "2026-11-21"})
    assert response.streaming and response["Content-Disposition"].endswith('profit_2026-11-20_2026-11-21.csv"')
    assert read_csv(response) == [
        ["Day", "Provider", "Orders", "Revenue (Rp)", "Upstream cost (Rp)", "Margin (Rp)"],
        ["2026-11-20", "Pulsa", "1", "6000", "5500", "500"],
        ["2026-11-20", "SMM Pusat", "1", "12000", "10000", "2000"],
        ["2026-11-21", "Pulsa", "1", "0", "0", "0"],
        ["2026-11-21", "SMM Pusat", "3", "8600", "7066.67", "1533.33"],
    ]


def test_profit_screen_busy(client, operator, dataset):
    client.force_login(operator)
    response = client.get(reverse("admin:reports_profit"), {"start": "2026-11-20", "end": "2026-11-21"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and 'class="series-revenue"' in page and 'class="series-cost"' in page
    assert "<script" not in page.split('id="profit-chart"')[1].split("</svg>")[0]
    assert "cdn" not in page.lower()
    assert "Rp 26.600" in page and "Rp 22.566,67" in page and "Rp 4.033,33" in page and "15.2%" in page
    assert 'data-day="2026-11-20"' in page and 'data-day="2026-11-21"' in page
    assert reverse("admin:reports_profit_csv") + "?start=2026-11-20&amp;end=2026-11-21" in page
    points = re.search(r'class="series-revenue" points="([^"]+)"', page).group(1).split()
    assert len(points) == 2


def test_profit_screen_empty_range_and_default(client, operator, services):
    client.force_login(operator)
    response = client.get(reverse("admin:reports_profit"), {"start": "2026-01-01", "end": "2026-01-31"})
    page = response.content.decode()
    assert response.status_code == 200 and "<svg" in page and "No orders in this period." in page
    assert page.count("data-day=") == 31
    default = client.get(reverse("admin:reports_profit"))
    assert default.status_code == 200 and default.content.decode().count("data-day=") == 30


def test_profit_screen_bad_dates_show_the_message(client, operator):
    client.force_login(operator)
    response = client.get(reverse("admin:reports_profit"), {"start": "2026-11-21", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "must not be after" in response.content.decode() and "<svg" in response.content.decode()


def test_chart_geometry_is_integer_pixels_and_scaled():
    report_days = profit_report(DateRange(date(2026, 11, 1), date(2026, 11, 2))).by_day
    report_days[0].revenue, report_days[0].cost = Decimal("7000"), Decimal("2500")
    chart = daily_chart(report_days)
    assert not chart.empty
    assert chart.y_ticks[-1]["value"] == Decimal("10000")  # 7000 rounds up to a readable top
    (x0, y0), (x1, y1) = (map(int, p.split(",")) for p in chart.revenue_points.split())
    assert x0 == chart.left and x1 == chart.right
    assert y1 == chart.bottom and y0 == chart.bottom - chart.plot_height * 7 // 10
    long = daily_chart(profit_report(DateRange(date(2025, 11, 21), date(2026, 11, 21))).by_day)
    assert long.empty and len(long.revenue_points.split()) == 366 and long.markers == []
    assert 2 <= len(long.x_ticks) <= 8
