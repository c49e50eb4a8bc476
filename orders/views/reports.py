"""CSV downloads and the operators' report screens. Thin: the rows and numbers come from orders.reports.queries
(the reseller balances from accounts.selectors), the CSV from orders.reports.csv.

Resellers (login required, always scoped to request.user): /pesanan/csv/ and /saldo/csv/.
Operators: the views below are mounted in the admin by OrderAdmin.get_urls (wrapped in admin_view, so
non-staff get the admin login), each also checking the model permission it reads.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.selectors import reseller_balances
from orders.reports.charts import daily_chart
from orders.reports.csv import csv_response
from orders.reports.periods import DateRangeError, parse_date_range
from orders.reports.queries import (
    ledger_header,
    ledger_rows,
    order_header,
    order_rows,
    profit_header,
    profit_report,
    profit_rows,
)
from providers.models import Provider


def _bad_range(exc: DateRangeError) -> HttpResponse:
    return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")


# --- resellers ----------------------------------------------------------------------------------------
@login_required
@require_GET
def orders_csv(request: HttpRequest) -> HttpResponse:
    """The reseller's own orders for ?start=YYYY-MM-DD&end=YYYY-MM-DD (default: the last 30 days)."""
    try:
        period = parse_date_range(request.GET)
    except DateRangeError as exc:
        return _bad_range(exc)
    return csv_response(period.filename("orders"), order_header(operator=False), order_rows(period, user=request.user))


@login_required
@require_GET
def ledger_csv(request: HttpRequest) -> HttpResponse:
    """The reseller's own ledger (balance history) for the date range."""
    try:
        period = parse_date_range(request.GET)
    except DateRangeError as exc:
        return _bad_range(exc)
    return csv_response(
        period.filename("ledger"), ledger_header(operator=False), ledger_rows(period, user=request.user)
    )


# --- operators (mounted in the admin) -----------------------------------------------------------------
def _require(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def admin_orders_csv(request: HttpRequest) -> HttpResponse:
    """Everyone's orders, with provider, upstream cost and upstream id."""
    _require(request, "orders.view_order")
    try:
        period = parse_date_range(request.GET)
    except DateRangeError as exc:
        return _bad_range(exc)
    return csv_response(period.filename("orders_all"), order_header(operator=True), order_rows(period))


def admin_ledger_csv(request: HttpRequest) -> HttpResponse:
    """Everyone's ledger entries, with the reseller."""
    _require(request, "accounts.view_ledgerentry")
    try:
        period = parse_date_range(request.GET)
    except DateRangeError as exc:
        return _bad_range(exc)
    return csv_response(period.filename("ledger_all"), ledger_header(operator=True), ledger_rows(period))


def admin_profit_csv(request: HttpRequest) -> HttpResponse:
    _require(request, "orders.view_order")
    try:
        period = parse_date_range(request.GET)
    except DateRangeError as exc:
        return _bad_range(exc)
    return csv_response(period.filename("profit"), profit_header(), profit_rows(period))


def admin_profit(request: HttpRequest, admin_site: AdminSite) -> HttpResponse:
    """Revenue, upstream cost and margin per day and provider for a date range, with a chart."""
    _require(request, "orders.view_order")
    error = ""
    try:
        period = parse_date_range(request.GET)
    except DateRangeError as exc:
        error = str(exc)
        period = parse_date_range({})
    report = profit_report(period)
    return TemplateResponse(
        request,
        "admin/reports/profit.html",
        {
            **admin_site.each_context(request),
            "title": _("Profit report"),
            "period": period,
            "start": request.GET.get("start", period.start.isoformat()) if error else period.start.isoformat(),
            "end": request.GET.get("end", period.end.isoformat()) if error else period.end.isoformat(),
            "error": error,
            "report": report,
            "chart": daily_chart(report.by_day),
            "can_ledger": request.user.has_perm("accounts.view_ledgerentry"),
        },
        status=400 if error else 200,
    )


def admin_balances(request: HttpRequest, admin_site: AdminSite) -> HttpResponse:
    """Every reseller's balance (largest first, paginated), the total owed to resellers, and the upstream
    balances (the same data as the providers' "Upstream balances" screen)."""
    _require(request, "accounts.view_wallet")
    try:
        page_number = int(request.GET.get("p", "1"))
    except ValueError:
        page_number = 1
    page = reseller_balances(page_number)
    can_providers = request.user.has_perm("providers.view_provider")
    providers = list(Provider.objects.order_by("name")) if can_providers else []
    known = [p.last_balance for p in providers if p.last_balance is not None]
    return TemplateResponse(
        request,
        "admin/reports/balances.html",
        {
            **admin_site.each_context(request),
            "title": _("Balances"),
            "page": page,
            "rank_offset": (page.number - 1) * page.per_page,
            "can_providers": can_providers,
            "providers": providers,
            "upstream_total": sum(known) if known else None,
            "low_count": sum(1 for p in providers if p.balance_is_low),
            "expiry_count": sum(1 for p in providers if p.balance_expiry_warning),
            "expiry_warn_days": settings.PROVIDER_BALANCE_EXPIRY_WARN_DAYS,
        },
    )
