"""Operator screens for providers and the catalogue. Credentials are write-only: the form never shows
them back, and an empty field keeps the stored value."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, ExpressionWrapper, F
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_money import MoneyAdmin, rupiah_column
from accounts.money import format_count, format_rupiah
from common.admin_readonly import ReadOnlyAdminMixin
from providers.adapters import ADAPTERS, credential_fields
from providers.adapters.errors import ProviderError
from providers.inbox import InboxResult, has_inbox, inbox_fetch, inbox_fetch_all, inbox_providers
from providers.models import COST, InboxMessage, MarkupRule, Provider, RuleScope, Service, ServicePrice
from providers.pricing import PricingResult, off_sale_services, pricing_refresh
from providers.services import (
    provider_callback_url,
    provider_credentials,
    provider_fetch_balance,
    provider_set_credentials,
    provider_test_connection,
    sms_routes_ensure,
)
from providers.sync import SYNCED_FIELDS, SyncResult, catalogue_sync


def balance_expiry_html(provider: Provider) -> str:
    """The upstream balance's expiry date, with a warning when it has passed or is near, or the vendor's
    text when it was not a date."""
    state = provider.balance_expiry()
    if provider.balance_expires_on is None:
        return provider.balance_expires_text or "-"
    day = provider.balance_expires_on.isoformat()
    if state == "expired":
        return format_html('<strong class="negative">{} ⚠ {}</strong>', day, _("expired"))
    if state == "soon":
        return format_html('<strong class="negative">{} ⚠ {}</strong>', day, _("expires soon"))
    return day


def _used_by(name: str) -> str:
    return ", ".join(adapter.title for adapter in ADAPTERS.values() if name in {c.name for c in adapter.credentials})


class ProviderForm(forms.ModelForm):
    """Made per request by `provider_form`, with one write-only field per credential the protocols declare."""

    base_url = forms.URLField(label=_("API address"), max_length=300, assume_scheme="https")

    class Meta:
        model = Provider
        fields = ["name", "kind", "base_url", "enabled", "options", "low_balance_threshold", "currency"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = provider_credentials(self.instance) if self.instance.pk else {}
        for name in credential_fields():
            hint = _("Stored; leave empty to keep it.") if stored.get(name) else _("Not set.")
            self.fields[name].help_text = f"{hint} {_('Used by')}: {_used_by(name)}"

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        provider_set_credentials(provider, **{name: self.cleaned_data.get(name) for name in credential_fields()})
        if commit:
            provider.save()
        return provider


def provider_form() -> type[ProviderForm]:
    """ProviderForm with the credential fields of the adapters registered now (a new protocol's included)."""
    fields = {
        name: forms.CharField(
            label=_(credential.label),  # the protocols' labels are marked with gettext_noop
            required=False,
            widget=forms.PasswordInput(render_value=False),
        )
        for name, credential in credential_fields().items()
    }
    return type("ProviderForm", (ProviderForm,), fields)


def _sync_text(result: SyncResult) -> str:
    text = _("%(created)s created, %(updated)s updated, %(disabled)s disabled, %(unchanged)s unchanged") % {
        name: format_count(getattr(result, name)) for name in ("created", "updated", "disabled", "unchanged")
    }
    if result.skipped:
        text += " " + _("(%(n)s skipped)") % {"n": format_count(result.skipped)}
    return text


@admin.register(Provider)
class ProviderAdmin(MoneyAdmin):
    form = ProviderForm
    list_display = [
        "name",
        "kind",
        "enabled",
        "balance_display",
        "balance_expiry_display",
        "last_balance_at",
        "last_synced_at",
        "last_error",
    ]
    rupiah_fields = ["last_balance", "low_balance_threshold"]
    list_filter = ["kind", "enabled"]
    readonly_fields = [
        "callback_url",
        "last_synced_at",
        "last_sync_result",
        "last_balance",
        "last_balance_at",
        "balance_expiry_display",
        "last_error",
    ]
    actions = ["test_connection", "sync_now", "fetch_balance", "fetch_inbox"]
    fieldsets = (
        (None, {"fields": ("name", "kind", "base_url", "enabled", "options", "low_balance_threshold", "currency")}),
        (_("Credentials (write-only)"), {"fields": ()}),  # the registry's credentials: get_fieldsets
        (
            _("State"),
            {
                "fields": (
                    "callback_url",
                    "last_synced_at",
                    "last_sync_result",
                    "last_balance",
                    "last_balance_at",
                    "balance_expiry_display",
                    "last_error",
                )
            },
        ),
    )

    def get_form(self, request: HttpRequest, obj: Provider | None = None, change: bool = False, **kwargs):
        kwargs["form"] = provider_form()
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Provider | None = None):
        general, credentials, state = super().get_fieldsets(request, obj)
        return (general, (credentials[0], {"fields": tuple(credential_fields())}), state)

    def save_model(self, request: HttpRequest, obj: Provider, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        sms_routes_ensure(obj)

    @admin.display(description=_("callback URL"))
    def callback_url(self, obj: Provider) -> str:
        return provider_callback_url(obj) if obj.pk else "-"

    @admin.display(description=_("upstream balance"), ordering="last_balance")
    def balance_display(self, obj: Provider) -> str:
        if obj.last_balance is None:
            return "-"
        if obj.balance_is_low:
            return format_html('<strong class="negative">{} ⚠</strong>', format_rupiah(obj.last_balance))
        return format_rupiah(obj.last_balance)

    @admin.display(description=_("balance expires"), ordering="balance_expires_on")
    def balance_expiry_display(self, obj: Provider) -> str:
        return balance_expiry_html(obj)

    def _each(self, request: HttpRequest, queryset, call, label: str) -> None:
        for provider in queryset:
            try:
                result = call(provider)
            except ProviderError as exc:
                self.message_user(
                    request,
                    _("%(provider)s: %(action)s failed: %(error)s")
                    % {"provider": provider, "action": label, "error": exc},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, _("%(provider)s: %(result)s") % {"provider": provider, "result": result}, messages.SUCCESS
                )

    @admin.action(description=_("Test connection"))
    def test_connection(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, provider_test_connection, _("test"))

    @admin.action(description=_("Sync catalogue now"))
    def sync_now(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, lambda p: _sync_text(catalogue_sync(p)), _("sync"))

    @admin.action(description=_("Fetch balance"))
    def fetch_balance(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, lambda p: format_rupiah(provider_fetch_balance(p).amount), _("balance"))

    @admin.action(description=_("Fetch SMS inbox now"))
    def fetch_inbox(self, request: HttpRequest, queryset) -> None:
        _inbox_messages(self, request, [inbox_fetch(provider) for provider in queryset if has_inbox(provider)])

    def get_urls(self):
        return [
            path("balances/", self.admin_site.admin_view(self.balances_view), name="providers_provider_balances"),
            *super().get_urls(),
        ]

    def balances_view(self, request: HttpRequest) -> HttpResponse:
        """Upstream balances at a glance, low ones highlighted."""
        providers = Provider.objects.order_by("name")
        return TemplateResponse(
            request,
            "admin/providers/balances.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Upstream balances"),
                "providers": providers,
                "low_count": sum(1 for p in providers if p.balance_is_low),
                "expiry_count": sum(1 for p in providers if p.balance_expiry_warning),
                "expiry_warn_days": settings.PROVIDER_BALANCE_EXPIRY_WARN_DAYS,
                "opts": self.model._meta,
            },
        )


def _margin_text(price: Decimal, cost: Decimal) -> str:
    margin = price - cost
    share = (margin / cost * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if cost else None
    percent = f" ({number_format(share, 1, force_grouping=True)}%)" if share is not None else ""
    return format_rupiah(margin) + percent


class ServicePriceInline(admin.TabularInline):
    """The service's sell price per tier, read-only: prices come from the markup rules."""

    model = ServicePrice
    verbose_name_plural = _("sell prices (from the markup rules)")
    fields = ["tier", "price_rp", "margin", "on_sale", "rule", "updated_at"]
    readonly_fields = fields
    price_rp = rupiah_column(ServicePrice, "price")
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("tier", "rule", "service")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("margin"))
    def margin(self, obj: ServicePrice) -> str:
        return _margin_text(obj.price, obj.service.cost)


class OffSaleFilter(admin.SimpleListFilter):
    """The margin guard's victims: offered, but priced at or below cost for some tier."""

    title = _("off sale (margin)")
    parameter_name = "margin_guard"

    def lookups(self, request: HttpRequest, model_admin):
        return [("yes", _("price not above cost")), ("no", _("sells at a profit"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return off_sale_services(queryset)
        if self.value() == "no":
            return queryset.exclude(pk__in=off_sale_services().values("pk"))
        return queryset


@admin.register(Service)
class ServiceAdmin(MoneyAdmin):
    list_display = [
        "name",
        "provider",
        "kind",
        "category",
        "cost",
        "min_qty",
        "max_qty",
        "stock",
        "in_stock",
        "is_active",
        "is_enabled",
    ]
    list_filter = ["kind", "provider", "is_active", "is_enabled", "in_stock", OffSaleFilter]
    rupiah_fields = ["cost"]
    count_fields = ["min_qty", "max_qty", "stock"]
    search_fields = ["name", "category", "external_id"]
    inlines = [ServicePriceInline]
    list_editable = ["is_enabled"]
    list_select_related = ["provider"]
    show_full_result_count = False
    readonly_fields = ["provider", "external_id", "raw", "synced_at", "created_at", "is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Service | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.kind != "sms":
            # Synced values come from the upstream; the next sync would overwrite an edit.
            fields += [name for name in SYNCED_FIELDS if name not in fields]
        return self.as_columns(fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- Markup pricing -------------------------------------------------------------------------------


def _report_pricing(model_admin: admin.ModelAdmin, request: HttpRequest, result: PricingResult) -> None:
    text = _("Prices recomputed: %(changed)s changed; %(off)s services off sale (margin guard).") % {
        "changed": result.changed,
        "off": result.off_sale,
    }
    if result.off_sale:
        url = reverse("admin:providers_serviceprice_changelist") + "?on_sale__exact=0"
        model_admin.message_user(
            request, format_html('{} <a href="{}">{}</a>', text, url, _("Show them")), messages.WARNING
        )
    else:
        model_admin.message_user(request, text, messages.SUCCESS)


class ScopeFilter(admin.SimpleListFilter):
    title = _("scope")
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin):
        return RuleScope.choices

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        if value == RuleScope.SERVICE:
            return queryset.filter(service__isnull=False)
        if value == RuleScope.CATEGORY:
            return queryset.filter(service__isnull=True).exclude(category="")
        if value == RuleScope.PROVIDER:
            return queryset.filter(service__isnull=True, category="", provider__isnull=False)
        if value == RuleScope.GLOBAL:
            return queryset.filter(service__isnull=True, category="", provider__isnull=True)
        return queryset


@admin.register(MarkupRule)
class MarkupRuleAdmin(MoneyAdmin):
    """Saving or deleting rules recomputes every sell price and reports the margin guard."""

    list_display = [
        "target",
        "scope_display",
        "tier_display",
        "percent",
        "fixed",
        "rounding_step",
        "fixed_price",
        "is_active",
        "note",
    ]
    list_filter = ["is_active", ScopeFilter, "tier", "provider"]
    rupiah_fields = ["fixed", "rounding_step", "fixed_price"]
    search_fields = ["category", "service__name", "provider__name", "note"]
    list_select_related = ["tier", "service__provider", "provider"]
    autocomplete_fields = ["service"]
    fieldsets = (
        (
            _("Applies to"),
            {
                "fields": ("tier", "service", "category", "provider"),
                "description": _(
                    "Set one target: a service; a category (optionally only one provider's); a provider; or "
                    "nothing for everything. The most specific active rule wins: service > category > provider "
                    "> everything, and a rule for a tier beats one for all tiers."
                ),
            },
        ),
        (
            _("Price"),
            {
                "fields": ("percent", "fixed", "rounding_step", "fixed_price"),
                "description": _(
                    "Sell price per unit = cost x (1 + markup %/100) + fixed markup, rounded up to the step. "
                    "A service priced at or below its cost is taken off sale."
                ),
            },
        ),
        (None, {"fields": ("is_active", "note")}),
    )

    @admin.display(description=_("applies to"))
    def target(self, obj: MarkupRule) -> str:
        return obj.target_display

    @admin.display(description=_("scope"))
    def scope_display(self, obj: MarkupRule) -> str:
        return RuleScope(obj.scope).label

    @admin.display(description=_("tier"), ordering="tier__sort_order")
    def tier_display(self, obj: MarkupRule) -> str:
        return str(obj.tier) if obj.tier_id else _("all tiers")

    def save_model(self, request: HttpRequest, obj: MarkupRule, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _report_pricing(self, request, pricing_refresh())

    def delete_model(self, request: HttpRequest, obj: MarkupRule) -> None:
        super().delete_model(request, obj)
        _report_pricing(self, request, pricing_refresh())

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        super().delete_queryset(request, queryset)
        _report_pricing(self, request, pricing_refresh())


class MarginFilter(admin.SimpleListFilter):
    title = _("margin")
    parameter_name = "margin"

    def lookups(self, request: HttpRequest, model_admin):
        return [("loss", _("price not above cost")), ("profit", _("price above cost"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "loss":
            return queryset.filter(price__lte=F("service__cost"))
        if self.value() == "profit":
            return queryset.filter(price__gt=F("service__cost"))
        return queryset


@admin.register(ServicePrice)
class ServicePriceAdmin(MoneyAdmin):
    """Sell prices per tier, read-only (they come from the markup rules). Off-sale rows sort first."""

    list_display = [
        "service",
        "kind",
        "tier",
        "service__cost",
        "price",
        "margin",
        "on_sale",
        "rule_link",
        "updated_at",
    ]
    list_filter = ["on_sale", "tier", MarginFilter, "service__kind", "service__provider"]
    rupiah_fields = ["price", "service__cost"]
    search_fields = ["service__name", "service__category", "service__external_id"]
    list_select_related = ["service__provider", "tier", "rule"]
    ordering = ["on_sale", "service_id", "tier__sort_order"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest):
        margin = ExpressionWrapper(F("price") - F("service__cost"), output_field=DecimalField(**COST))
        return super().get_queryset(request).annotate(margin_value=margin)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("kind"), ordering="service__kind")
    def kind(self, obj: ServicePrice) -> str:
        return obj.service.get_kind_display()

    @admin.display(description=_("margin"), ordering="margin_value")
    def margin(self, obj: ServicePrice) -> str:
        text = _margin_text(obj.price, obj.service.cost)
        if obj.price <= obj.service.cost:
            return format_html('<strong class="negative">{}</strong>', text)
        return text

    @admin.display(description=_("rule"), ordering="rule")
    def rule_link(self, obj: ServicePrice) -> str:
        if obj.rule is None:
            return _("none")
        url = reverse("admin:providers_markuprule_change", args=[obj.rule_id])
        return format_html('<a href="{}">#{} {}</a>', url, obj.rule_id, RuleScope(obj.rule.scope).label)


def _inbox_messages(model_admin: admin.ModelAdmin, request: HttpRequest, results: list[InboxResult]) -> None:
    if not results:
        model_admin.message_user(request, _("No selected provider has an SMS inbox."), messages.WARNING)
    for result in results:
        if result.error:
            text = _("%(provider)s: the inbox could not be fetched: %(error)s")
            model_admin.message_user(
                request, text % {"provider": result.provider, "error": result.error}, messages.ERROR
            )
        else:
            text = _("%(provider)s: %(fetched)s messages in the inbox, %(stored)s new.")
            values = {"provider": result.provider, "fetched": result.fetched, "stored": result.stored}
            model_admin.message_user(request, text % values, messages.SUCCESS)


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Incoming SMS of the gateways' inboxes, read-only (operators only: it names the supplier)."""

    list_display = ["received_at", "provider", "number", "text_excerpt", "external_id", "fetched_at"]
    list_filter = ["provider", ("received_at", admin.DateFieldListFilter)]
    search_fields = ["number", "text"]
    list_select_related = ["provider"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description=_("message"), ordering="text")
    def text_excerpt(self, obj: InboxMessage) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    def get_urls(self):
        view = self.admin_site.admin_view(self.fetch_view)
        return [path("fetch/", view, name="providers_inboxmessage_fetch"), *super().get_urls()]

    def fetch_view(self, request: HttpRequest) -> HttpResponse:
        """The changelist's button: GET asks, POST fetches every enabled gateway's inbox now."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            _inbox_messages(self, request, inbox_fetch_all())
            return HttpResponseRedirect(reverse("admin:providers_inboxmessage_changelist"))
        return TemplateResponse(
            request,
            "admin/providers/inbox_fetch.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Fetch SMS inbox now"),
                "providers": inbox_providers(),
                "opts": self.model._meta,
            },
        )
