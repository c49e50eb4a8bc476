"""Operator screens for providers and the catalogue. Credentials are write-only: the form never shows
them back, and an empty field keeps the stored value."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from providers.adapters.errors import ProviderError
from providers.models import Provider, Service
from providers.services import (
    CREDENTIAL_FIELDS,
    provider_callback_url,
    provider_credentials,
    provider_fetch_balance,
    provider_set_credentials,
    provider_test_connection,
    sms_routes_ensure,
)
from providers.sync import catalogue_sync


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(label=_("API address"), max_length=300, assume_scheme="https")
    api_key = forms.CharField(label=_("API key"), required=False, widget=forms.PasswordInput(render_value=False))
    user_id = forms.CharField(label=_("User ID"), required=False, widget=forms.PasswordInput(render_value=False))
    username = forms.CharField(label=_("Username"), required=False, widget=forms.PasswordInput(render_value=False))
    password = forms.CharField(label=_("Password"), required=False, widget=forms.PasswordInput(render_value=False))

    class Meta:
        model = Provider
        fields = ["name", "kind", "base_url", "enabled", "options", "low_balance_threshold"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = provider_credentials(self.instance) if self.instance.pk else {}
        for name in CREDENTIAL_FIELDS:
            hint = _("Stored; leave empty to keep it.") if stored.get(name) else _("Not set.")
            self.fields[name].help_text = hint

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        provider_set_credentials(provider, **{name: self.cleaned_data.get(name) for name in CREDENTIAL_FIELDS})
        if commit:
            provider.save()
        return provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "kind", "enabled", "balance_display", "last_balance_at", "last_synced_at", "last_error"]
    list_filter = ["kind", "enabled"]
    readonly_fields = [
        "callback_url",
        "last_synced_at",
        "last_sync_result",
        "last_balance",
        "last_balance_at",
        "last_error",
    ]
    actions = ["test_connection", "sync_now", "fetch_balance"]
    fieldsets = (
        (None, {"fields": ("name", "kind", "base_url", "enabled", "options", "low_balance_threshold")}),
        (_("Credentials (write-only)"), {"fields": CREDENTIAL_FIELDS}),
        (
            _("State"),
            {
                "fields": (
                    "callback_url",
                    "last_synced_at",
                    "last_sync_result",
                    "last_balance",
                    "last_balance_at",
                    "last_error",
                )
            },
        ),
    )

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
            return format_html('<strong style="color:#b42318">{} ⚠</strong>', f"{obj.last_balance:,.0f}")
        return f"{obj.last_balance:,.0f}"

    def _each(self, request: HttpRequest, queryset, call, label: str) -> None:
        for provider in queryset:
            try:
                result = call(provider)
            except ProviderError as exc:
                self.message_user(request, f"{provider}: {label} {_('failed')}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{provider}: {result}", messages.SUCCESS)

    @admin.action(description=_("Test connection"))
    def test_connection(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, provider_test_connection, _("test"))

    @admin.action(description=_("Sync catalogue now"))
    def sync_now(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, catalogue_sync, _("sync"))

    @admin.action(description=_("Fetch balance"))
    def fetch_balance(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, lambda p: f"{provider_fetch_balance(p).amount:,.0f}", _("balance"))

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
                "opts": self.model._meta,
            },
        )


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
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
    list_filter = ["kind", "provider", "is_active", "is_enabled", "in_stock"]
    search_fields = ["name", "category", "external_id"]
    list_editable = ["is_enabled"]
    list_select_related = ["provider"]
    show_full_result_count = False
    readonly_fields = ["provider", "external_id", "raw", "synced_at", "created_at", "is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Service | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.kind != "sms":
            # Synced values come from the upstream; the next sync would overwrite an edit.
            fields += [
                "name",
                "category",
                "kind",
                "cost",
                "min_qty",
                "max_qty",
                "stock",
                "in_stock",
                "can_refill",
                "can_cancel",
                "cutoff_start",
                "cutoff_end",
            ]
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
