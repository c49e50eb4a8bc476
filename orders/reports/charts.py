"""The profit screen's chart: daily revenue vs upstream cost, an inline SVG that the template draws from
the geometry computed here (integer pixels; no floats touch money)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from orders.reports.queries import ZERO, ProfitLine


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
