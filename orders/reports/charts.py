"""Charts drawn as inline SVG from the geometry computed here (integers; no floats touch money): the profit
screen's daily revenue vs upstream cost, and the reseller dashboard's daily spend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from django.utils import formats

from accounts.money import format_rupiah, format_rupiah_short
from orders.reports.queries import ZERO, ProfitLine

if TYPE_CHECKING:
    from orders.selectors import DaySpend


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1 / 2 / 2.5 / 5 x 10^k not below `value` (a readable top for the y axis)."""
    if value <= 0:
        return Decimal(1000)
    magnitude = Decimal(10) ** (value.adjusted())
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= magnitude * step:
            return magnitude * step
    return magnitude * 10  # pragma: no cover


@dataclass(frozen=True)
class Chart:
    """Pixel geometry of the daily revenue-vs-cost chart (an inline SVG rendered by the template)."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    revenue_points: str
    cost_points: str
    markers: list[dict]
    y_ticks: list[dict]
    x_ticks: list[dict]
    empty: bool

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    @property
    def right(self) -> int:
        return self.left + self.plot_width


def daily_chart(by_day: Sequence[ProfitLine], *, width: int = 760, height: int = 260) -> Chart:
    """Server-side geometry for daily revenue vs upstream cost. Integer pixels; no floats touch money."""
    left, top, right_pad, bottom_pad = 92, 16, 30, 34
    plot_w, plot_h = width - left - right_pad, height - top - bottom_pad
    count = len(by_day)
    peak = max([line.revenue for line in by_day] + [line.cost for line in by_day] + [ZERO])
    y_max = _nice_ceiling(peak)

    def x(i: int) -> int:
        return left + (plot_w // 2 if count <= 1 else i * plot_w // (count - 1))

    def y(value: Decimal) -> int:
        clipped = max(value, ZERO)
        return top + plot_h - int(clipped * plot_h / y_max)

    revenue = " ".join(f"{x(i)},{y(line.revenue)}" for i, line in enumerate(by_day))
    cost = " ".join(f"{x(i)},{y(line.cost)}" for i, line in enumerate(by_day))
    markers = []
    if count <= 62:
        for i, line in enumerate(by_day):
            markers.append(
                {"x": x(i), "revenue_y": y(line.revenue), "cost_y": y(line.cost), "line": line, "day": line.label}
            )
    y_ticks = []
    for k in range(5):
        tick_y = top + plot_h - plot_h * k // 4
        y_ticks.append({"y": tick_y, "label_x": left - 6, "label_y": tick_y + 4, "value": y_max * k / 4})
    x_ticks = []
    if count:
        step = max(1, -(-count // 6))
        picks = sorted({*range(0, count, step), count - 1})
        if len(picks) > 1 and picks[-1] - picks[-2] < step // 2:
            picks.pop(-2)  # keep the last day's label clear of its neighbour
        x_ticks = [{"x": x(i), "label_y": top + plot_h + 18, "label": by_day[i].label} for i in picks]
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=plot_w,
        plot_height=plot_h,
        revenue_points=revenue,
        cost_points=cost,
        markers=markers,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        empty=peak <= 0,
    )


# --- the reseller dashboard's daily spend ------------------------------------------------------------
# The bars are an SVG stretched to the card (preserveAspectRatio="none"), so its units are not pixels and
# it holds no text: the axis labels are HTML around it and keep the page's font size at any width.
SPEND_SLOT = 100  # viewBox units per day
SPEND_BAR = 64  # the bar's share of its slot
SPEND_HEIGHT = 1000  # viewBox units from zero to the top tick
SPEND_MIN_BAR = 6  # a day with any spending stays visible however small it is
SPEND_MIN_SLOTS = 7  # one or two days keep bars of a sane width (they sit at the right, as today does)
SPEND_X_LABELS = 5  # dates under the axis; a phone shows every other one (three)


@dataclass(frozen=True)
class SpendDay:
    """One day's bar (viewBox units) and the tooltip's text."""

    day: date
    amount: Decimal
    date_text: str
    amount_text: str
    slot_x: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class AxisLabel:
    text: str  # "" under most days
    align: str = "middle"  # start / middle / end: the labels at the edges stay inside the plot
    minor: bool = False  # every other label, left out on a phone (the CSS) where five would touch


@dataclass(frozen=True)
class AxisTick:
    value: Decimal
    text: str  # Rp 50 rb
    y: int  # viewBox units, 0 at the top


@dataclass(frozen=True)
class SpendChart:
    days: list[SpendDay]
    x_labels: list[AxisLabel]  # one per slot
    y_ticks: list[AxisTick]  # from zero up
    width: int
    height: int
    slot: int
    bar_width: int
    total: Decimal
    top: Decimal  # the highest day (Rp 0 when no day was above zero)
    empty: bool


def nice_ticks(peak: Decimal, intervals: int = 4) -> list[Decimal]:
    """0 and equal steps up to the first multiple of the step at or above `peak`: the step is a readable
    1 / 2 / 2.5 / 5 x 10^k (at least Rp 1), so 2 to `intervals` steps. Just [0] when nothing is above zero."""
    if peak <= 0:
        return [Decimal(0)]
    step = max(_nice_ceiling(peak / intervals), Decimal(1))
    count = int((peak / step).to_integral_value(rounding=ROUND_CEILING))
    return [step * k for k in range(count + 1)]


def thin_labels(count: int, most: int = SPEND_X_LABELS) -> list[int]:
    """The indexes of the days whose date is written under the axis, counted back from the last (today is
    always labelled) with a step that keeps them to `most`, so they never overlap."""
    if count <= 0:
        return []
    step = -(-count // most)
    return sorted(range(count - 1, -1, -step))


def _x_labels(days: Sequence[date], slots: int) -> list[AxisLabel]:
    offset = slots - len(days)
    labels = [AxisLabel("") for _ in range(slots)]
    for rank, i in enumerate(reversed(thin_labels(len(days)))):
        slot = offset + i
        align = "end" if slot == slots - 1 and slots > 1 else "start" if slot == 0 and slots > 1 else "middle"
        labels[slot] = AxisLabel(formats.date_format(days[i], "j M"), align, minor=rank % 2 == 1)
    return labels


def spend_chart(days: Sequence[DaySpend]) -> SpendChart:
    """Bars of charges minus refunds per day (`DaySpend`s, oldest first); a day where refunds exceeded
    charges is drawn empty, its tooltip says by how much. Dates in the active language."""
    ticks = nice_ticks(max((d.amount for d in days), default=ZERO))
    scale = ticks[-1] if ticks[-1] > 0 else Decimal(1)
    slots = max(len(days), SPEND_MIN_SLOTS)
    offset = slots - len(days)
    bars = []
    for i, d in enumerate(days):
        height = int(max(d.amount, ZERO) * SPEND_HEIGHT / scale)
        if d.amount > 0:
            height = max(height, SPEND_MIN_BAR)
        slot_x = (offset + i) * SPEND_SLOT
        bars.append(
            SpendDay(
                day=d.day,
                amount=d.amount,
                date_text=formats.date_format(d.day, "D, j M Y"),
                amount_text=format_rupiah(d.amount),
                slot_x=slot_x,
                x=slot_x + (SPEND_SLOT - SPEND_BAR) // 2,
                y=SPEND_HEIGHT - height,
                height=height,
            )
        )
    return SpendChart(
        days=bars,
        x_labels=_x_labels([d.day for d in days], slots),
        y_ticks=[AxisTick(v, format_rupiah_short(v), SPEND_HEIGHT - int(v * SPEND_HEIGHT / scale)) for v in ticks],
        width=slots * SPEND_SLOT,
        height=SPEND_HEIGHT,
        slot=SPEND_SLOT,
        bar_width=SPEND_BAR,
        total=sum((d.amount for d in days), ZERO),
        top=max([ZERO, *(d.amount for d in days)]),  # a refunds-only month's top is Rp 0, not a negative day
        empty=all(d.amount == 0 for d in days),
    )
