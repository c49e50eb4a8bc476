"""Dashboard and the small site-wide views. Business logic lives in the apps' services/selectors."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats
from django.views.decorators.http import require_GET

from accounts.money import format_rupiah
from accounts.selectors import balance_of
from common.views import reseller_required
from orders.models import OrderStatus
from orders.selectors import DaySpend, daily_spend, order_counts, recent_orders, spend_since, wib_start, wib_today

CHART_DAYS = 30
CHART_WIDTH = 600
CHART_HEIGHT = 150
CHART_BOTTOM = 30  # room for the day labels


@dataclass(frozen=True)
class Bar:
    # SVG coordinates as text: numbers in templates would be localized (3,5 in Indonesian).
    x: str
    y: str
    width: str
    height: str
    title: str
    label: str  # day label under some bars ("" for most)
    label_x: str
    anchor: str = "middle"


def _n(value: float) -> str:
    return f"{value:.1f}"


def spend_chart(days: list[DaySpend]) -> dict:
    """Geometry of an inline SVG bar chart of daily spend (negative days, refunds exceeding charges,
    are drawn as empty)."""
    top = max((d.amount for d in days), default=Decimal("0"))
    top = top if top > 0 else Decimal("1")
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        height = float(max(day.amount, Decimal("0")) / top) * (CHART_HEIGHT - 10)
        if day.amount > 0:
            height = max(height, 2.0)
        x = i * slot + slot * 0.15
        when = formats.date_format(day.day, "j M")
        bars.append(
            Bar(
                x=_n(x),
                y=_n(CHART_HEIGHT - height),
                width=_n(slot * 0.7),
                height=_n(height),
                title=f"{when}: {format_rupiah(day.amount)}",
                label=when if (len(days) - 1 - i) % 7 == 0 else "",
                label_x=_n(CHART_WIDTH if i == len(days) - 1 else max(x + slot * 0.35, 24)),
                anchor="end" if i == len(days) - 1 else "middle",
            )
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT + CHART_BOTTOM,
        "baseline": CHART_HEIGHT,
        "label_y": CHART_HEIGHT + 22,
        "top": format_rupiah(top) if top > 1 else format_rupiah(0),
        "total": format_rupiah(sum((d.amount for d in days), Decimal("0"))),
        "empty": all(d.amount == 0 for d in days),
    }


@reseller_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = wib_today()
    counts = order_counts(user)
    labels = dict(OrderStatus.choices)
    return render(
        request,
        "panel/dashboard.html",
        {
            "balance": balance_of(user),
            "spend_today": spend_since(user, wib_start(today)),
            "spend_month": spend_since(user, wib_start(today.replace(day=1))),
            "chart": spend_chart(daily_spend(user, CHART_DAYS, today)),
            "status_counts": [(status, labels[status], n) for status, n in counts.items()],
            "orders_total": sum(counts.values()),
            "recent": recent_orders(user),
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
