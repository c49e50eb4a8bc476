"""The dashboard's daily-spend chart geometry (orders.reports.charts.spend_chart): nice Rupiah ticks, bars in
viewBox units scaled to the top tick, date labels thinned from today back, the empty and one-day charts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import translation

from orders.reports.charts import (
    SPEND_HEIGHT,
    SPEND_MIN_BAR,
    SPEND_MIN_SLOTS,
    SPEND_SLOT,
    nice_ticks,
    spend_chart,
    thin_labels,
)
from orders.selectors import DaySpend

TODAY = date(2026, 12, 8)


def days(*amounts: str | int) -> list[DaySpend]:
    """DaySpends ending TODAY, oldest first."""
    first = TODAY - timedelta(days=len(amounts) - 1)
    return [DaySpend(first + timedelta(days=i), Decimal(a)) for i, a in enumerate(amounts)]


@pytest.fixture(autouse=True)
def indonesian():
    with translation.override("id"):
        yield


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        ("7000", [0, 2000, 4000, 6000, 8000]),
        ("10000", [0, 2500, 5000, 7500, 10000]),
        ("10001", [0, 5000, 10000, 15000]),
        ("328405", [0, 100000, 200000, 300000, 400000]),
        ("1800000", [0, 500000, 1000000, 1500000, 2000000]),
        ("1", [0, 1]),
        ("0", [0]),
        ("-5000", [0]),
    ],
)
def test_nice_ticks(peak, ticks):
    assert nice_ticks(Decimal(peak)) == [Decimal(t) for t in ticks]


def test_nice_ticks_always_cover_the_peak_in_two_to_four_steps():
    for peak in range(4, 3_000_000, 7919):
        ticks = nice_ticks(Decimal(peak))
        assert ticks[-1] >= peak and 2 <= len(ticks) - 1 <= 4, peak
        assert len({b - a for a, b in pairwise(ticks)}) == 1, ticks  # equal steps


@pytest.mark.parametrize(
    ("count", "picked"),
    [
        (30, [5, 11, 17, 23, 29]),
        (7, [0, 2, 4, 6]),
        (5, [0, 1, 2, 3, 4]),
        (1, [0]),
        (0, []),
    ],
)
def test_thin_labels_count_back_from_today(count, picked):
    assert thin_labels(count) == picked


def test_bars_ticks_and_labels_of_thirty_days():
    amounts = [0] * 30
    amounts[-1], amounts[-2], amounts[3] = 7000, 3500, 20  # today, yesterday, a tiny day
    amounts[10] = -4000  # refunds exceeded charges: drawn empty
    chart = spend_chart(days(*amounts))

    assert [t.text for t in chart.y_ticks] == ["Rp 0", "Rp 2 rb", "Rp 4 rb", "Rp 6 rb", "Rp 8 rb"]
    assert [t.y for t in chart.y_ticks] == [1000, 750, 500, 250, 0]
    assert chart.width == 30 * SPEND_SLOT and chart.height == SPEND_HEIGHT
    today, yesterday = chart.days[-1], chart.days[-2]
    assert today.height == 875 and today.y == SPEND_HEIGHT - 875  # 7000 of 8000
    assert yesterday.height == 437 and today.slot_x == 29 * SPEND_SLOT
    assert chart.days[3].height == SPEND_MIN_BAR  # visible however small
    assert chart.days[10].height == 0 and chart.days[10].amount_text == "-Rp 4.000"
    assert chart.days[0].height == 0
    assert (today.date_text, today.amount_text) == ("Sel, 8 Des 2026", "Rp 7.000")
    assert all(isinstance(v, int) for d in chart.days for v in (d.x, d.y, d.height, d.slot_x))

    labelled = [(i, label.text, label.align, label.minor) for i, label in enumerate(chart.x_labels) if label.text]
    assert labelled == [
        (5, "14 Nov", "middle", False),
        (11, "20 Nov", "middle", True),
        (17, "26 Nov", "middle", False),
        (23, "2 Des", "middle", True),
        (29, "8 Des", "end", False),  # today, kept inside the plot
    ]
    assert chart.total == Decimal("6520") and chart.top == Decimal("7000") and not chart.empty


def test_dates_follow_the_language():
    with translation.override("en"):
        chart = spend_chart(days(1000))
    assert chart.days[0].date_text == "Tue, 8 Dec 2026" and chart.x_labels[-1].text == "8 Dec"


def test_no_spending_is_an_empty_chart_with_a_zero_axis():
    chart = spend_chart(days(*[0] * 30))
    assert chart.empty and chart.total == 0
    assert [(t.text, t.y) for t in chart.y_ticks] == [("Rp 0", SPEND_HEIGHT)]
    assert all(d.height == 0 and d.amount_text == "Rp 0" for d in chart.days)
    assert sum(1 for label in chart.x_labels if label.text) == 5


def test_refunds_only_is_not_empty_but_has_no_bars():
    chart = spend_chart(days(0, "-2500"))
    assert not chart.empty and [t.text for t in chart.y_ticks] == ["Rp 0"] and chart.top == 0
    assert all(d.height == 0 for d in chart.days)


def test_one_day_sits_at_the_right_with_a_sane_width():
    chart = spend_chart(days("1250000"))
    assert chart.width == SPEND_MIN_SLOTS * SPEND_SLOT  # not one bar across the whole card
    (day,) = chart.days
    assert day.slot_x == (SPEND_MIN_SLOTS - 1) * SPEND_SLOT and day.height == SPEND_HEIGHT * 1250 // 1500
    assert [t.text for t in chart.y_ticks] == ["Rp 0", "Rp 500 rb", "Rp 1 jt", "Rp 1,5 jt"]
    assert [(label.text, label.align) for label in chart.x_labels if label.text] == [("8 Des", "end")]
    assert len(chart.x_labels) == SPEND_MIN_SLOTS


def test_no_days_at_all():
    chart = spend_chart([])
    assert chart.empty and chart.days == [] and [t.text for t in chart.y_ticks] == ["Rp 0"]
    assert all(not label.text for label in chart.x_labels)
