"""Dashboard and the small site-wide views. Business logic lives in the apps' services/selectors."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import balance_of
from common.views import reseller_required
from orders.models import OrderStatus
from orders.reports.charts import spend_chart
from orders.selectors import daily_spend, order_counts, recent_orders, spend_since, wib_start, wib_today

CHART_DAYS = 30


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
