"""Operator screens for orders. Orders are read-only here; actions go through orders.services and are
recorded in the order's history with the operator as actor."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_money import MoneyAdmin
from accounts.money import format_count, format_rupiah
from common.admin_paging import EstimatedCountPaginator
from common.admin_readonly import ReadOnlyAdminMixin
from orders.models import (
    CallbackEvent,
    Order,
    OrderEvent,
    OrderRecipient,
    PriceLevelTier,
    ReconciliationStatus,
    SmsDifference,
    SmsReconciliation,
)
from orders.reconcile import sms_reconcile_day, sms_reconcile_summary
from orders.refresh import refresh_tick
from orders.services import OrderActionError, order_resolve_failed, order_resolve_placed
from orders.views import reports as report_views


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["at", "from_status", "to_status", "code", "reason", "actor"]
    readonly_fields = fields


class OrderRecipientInline(ReadOnlyInline):
    model = OrderRecipient
    fields = ["number", "external_id", "state", "code", "text", "updated_at"]
    readonly_fields = fields
    max_num = 0


class ResolvePlacedForm(forms.Form):
    external_id = forms.CharField(label=_("Upstream order id"), max_length=100)


@admin.register(Order)
class OrderAdmin(MoneyAdmin):
    list_display = [
        "id",
        "created_at",
        "user",
        "kind",
        "service",
        "provider",
        "status",
        "charge",
        "refunded",
        "external_id",
    ]
    rupiah_fields = ["charge", "refunded", "cost", "unit_price", "unit_cost"]
    count_fields = ["quantity"]
    list_filter = ["kind", "status", "provider", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "=external_id", "user__username", "target"]
    list_select_related = ["user", "service__provider", "provider"]  # Service.__str__ names its provider
    raw_id_fields = ["user", "service", "provider"]
    # No date_hierarchy: its month list is a DISTINCT over every order (908 ms of 1,442 at 1M orders);
    # the created_at list filter covers the same need.
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # the unfiltered list's total is PostgreSQL's estimate, not a full scan
    inlines = [OrderEventInline, OrderRecipientInline]
    actions = ["refresh_now", "resolve_placed", "resolve_failed"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.as_columns([f.name for f in self.model._meta.fields])  # money and counts as their columns

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        """The operators' report screens and CSV downloads (linked from the admin index "Reports" box).
        Before the default URLs, whose `<object_id>/` pattern would swallow them."""
        view = self.admin_site.admin_view
        site = self.admin_site
        return [
            path("reports/orders.csv", view(report_views.admin_orders_csv), name="reports_orders_csv"),
            path("reports/ledger.csv", view(report_views.admin_ledger_csv), name="reports_ledger_csv"),
            path("reports/profit.csv", view(report_views.admin_profit_csv), name="reports_profit_csv"),
            path("reports/profit/", view(lambda r: report_views.admin_profit(r, site)), name="reports_profit"),
            path("reports/balances/", view(lambda r: report_views.admin_balances(r, site)), name="reports_balances"),
            *super().get_urls(),
        ]

    @admin.action(description=_("Refresh now"))
    def refresh_now(self, request: HttpRequest, queryset) -> None:
        stats = refresh_tick(provider_ids=list(queryset.values_list("provider_id", flat=True).distinct()))
        text = _("Active orders checked: %(checked)s; changed: %(changed)s; provider errors: %(errors)s.") % {
            "checked": format_count(stats.checked),
            "changed": format_count(stats.changed),
            "errors": format_count(len(stats.errors)),
        }
        self.message_user(request, text, messages.WARNING if stats.errors else messages.SUCCESS)
        for line in stats.errors:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description=_("Resolve unknown as placed (attach upstream id)"))
    def resolve_placed(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one order to attach an upstream id."), messages.ERROR)
            return None
        order = queryset.get()
        form = ResolvePlacedForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                order_resolve_placed(order, form.cleaned_data["external_id"], actor=request.user)
            except OrderActionError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _("Order #%(id)s attached to the upstream order.") % {"id": order.pk})
            return HttpResponseRedirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/orders/resolve_placed.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Resolve as placed"),
                "form": form,
                "order": order,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Resolve unknown as failed (refund)"))
    def resolve_failed(self, request: HttpRequest, queryset) -> None:
        for order in queryset:
            try:
                order_resolve_failed(order, actor=request.user)
            except OrderActionError as exc:
                self.message_user(
                    request, _("Order #%(id)s: %(error)s") % {"id": order.pk, "error": exc}, messages.ERROR
                )
            else:
                self.message_user(request, _("Order #%(id)s failed and refunded.") % {"id": order.pk})


@admin.register(PriceLevelTier)
class PriceLevelTierAdmin(admin.ModelAdmin):
    """The downstream Osimesa API's `price.list`: which tier's price each level shows."""

    list_display = ["level", "tier"]
    list_select_related = ["tier"]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        help_text = _(
            "The reseller API's Osimesa price list (standar / premium / spesial) shows, at each level, the price "
            "of the tier chosen here. A level without a tier, or a product that tier cannot buy, shows the "
            "reseller's own price; 'current' is always the reseller's own price, the one they pay."
        )
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": help_text})


@admin.register(CallbackEvent)
class CallbackEventAdmin(admin.ModelAdmin):
    list_display = ["id", "received_at", "provider", "external_id", "number", "state", "code", "applied_at"]
    list_filter = ["provider", "state", ("applied_at", admin.EmptyFieldListFilter)]
    search_fields = ["=external_id", "number"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- daily SMS reconciliation (orders.reconcile) -------------------------------------------------------
class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [f.name for f in self.model._meta.fields]


def _order_link(order_id: int | None) -> str:
    if order_id is None:
        return "-"
    return format_html('<a href="{}">#{}</a>', reverse("admin:orders_order_change", args=[order_id]), order_id)


def _rupiah(amount) -> str:
    return "-" if amount is None else format_rupiah(amount)


@admin.register(SmsReconciliation)
class SmsReconciliationAdmin(ReadOnlyAdmin):
    """One row per SMS gateway and day. Information only: a difference moves no money."""

    list_display = [
        "day",
        "provider",
        "status",
        "upstream_count",
        "panel_count",
        "matched_count",
        "differences_link",
        "upstream_cost_rp",
        "panel_cost_rp",
        "reason",
        "ran_at",
    ]
    list_filter = ["status", "provider", ("day", admin.DateFieldListFilter)]
    list_select_related = ["provider"]
    # The differences open in their own (paginated) changelist: a bad day may have thousands.
    fields = [
        "provider",
        "day",
        "status",
        "reason",
        "differences_link",
        "upstream_count",
        "panel_count",
        "matched_count",
        "upstream_cost_rp",
        "panel_cost_rp",
        "ran_at",
    ]
    actions = ["compare_again"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.fields

    @admin.display(description=_("differences"))
    def differences_link(self, obj: SmsReconciliation) -> str:
        if obj.status == ReconciliationStatus.FAILED:
            return "-"
        url = reverse("admin:orders_smsdifference_changelist") + f"?run__id__exact={obj.pk}"
        text = _("%(total)s (unknown %(unknown)s, missing %(missing)s, state %(state)s, price %(price)s)") % {
            "total": obj.difference_count,
            "unknown": obj.unknown_count,
            "missing": obj.missing_count,
            "state": obj.state_count,
            "price": obj.price_count,
        }
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=_("gateway cost"), ordering="upstream_cost")
    def upstream_cost_rp(self, obj: SmsReconciliation) -> str:
        return _rupiah(obj.upstream_cost)

    @admin.display(description=_("panel cost"), ordering="panel_cost")
    def panel_cost_rp(self, obj: SmsReconciliation) -> str:
        return _rupiah(obj.panel_cost)

    @admin.action(description=_("Compare again (replaces the day's result)"))
    def compare_again(self, request: HttpRequest, queryset) -> None:
        for run in queryset.select_related("provider"):
            again = sms_reconcile_day(run.provider, run.day)
            level = messages.ERROR if again.status == ReconciliationStatus.FAILED else messages.SUCCESS
            self.message_user(request, sms_reconcile_summary(again), level)


@admin.register(SmsDifference)
class SmsDifferenceAdmin(ReadOnlyAdmin):
    list_display = [
        "run_day",
        "run_provider",
        "kind",
        "external_id",
        "number",
        "order_link",
        "sent_at",
        "panel_state",
        "upstream_state",
        "panel_parts",
        "upstream_parts",
        "panel_cost_rp",
        "upstream_cost_rp",
        "detail",
    ]
    list_filter = ["kind", "run__provider", ("run__day", admin.DateFieldListFilter)]
    search_fields = ["=external_id", "number", "=order__id"]
    list_select_related = ["run__provider"]
    show_full_result_count = False

    @admin.display(description=_("day (WIB)"), ordering="run__day")
    def run_day(self, obj: SmsDifference):
        return obj.run.day

    @admin.display(description=_("provider"), ordering="run__provider__name")
    def run_provider(self, obj: SmsDifference):
        return obj.run.provider

    @admin.display(description=_("order"), ordering="order_id")
    def order_link(self, obj: SmsDifference) -> str:
        return _order_link(obj.order_id)

    @admin.display(description=_("panel cost"), ordering="panel_cost")
    def panel_cost_rp(self, obj: SmsDifference) -> str:
        return _rupiah(obj.panel_cost)

    @admin.display(description=_("gateway cost"), ordering="upstream_cost")
    def upstream_cost_rp(self, obj: SmsDifference) -> str:
        return _rupiah(obj.upstream_cost)
