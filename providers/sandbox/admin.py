"""Sandbox admin: accounts editable (faults switchable right on the list page), orders read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin_money import MoneyAdmin
from accounts.money import format_count
from common.admin_readonly import ReadOnlyAdminMixin

from .models import Fault, SandboxAccount, SandboxOrder, SandboxRefill


@admin.register(SandboxAccount)
class SandboxAccountAdmin(MoneyAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "kind", "balance", "fault", "fault_scope", "fault_delay_seconds", "created_at"]
    list_display_links = ["name"]
    rupiah_fields = ["balance"]
    list_editable = ["fault", "fault_scope", "fault_delay_seconds"]
    list_filter = ["kind", "fault"]
    search_fields = ["name", "api_key", "username", "user_id"]
    actions = ["clear_faults"]
    fieldsets = [
        (None, {"fields": ["kind", "name", "balance", "catalogue_size"]}),
        (_("Credentials"), {"fields": ["api_key", "user_id", "username", "password", "callback_url"]}),
        (
            _("Timing"),
            {
                "fields": [
                    "otp_delay_seconds",
                    "smm_step_seconds",
                    "prepaid_delay_seconds",
                    "dlr_delay_seconds",
                ]
            },
        ),
        (_("Account standing (RajaSMS)"), {"fields": ["allowed_ips", "balance_expires_on"]}),
        (_("Fault"), {"fields": ["fault", "fault_scope", "fault_delay_seconds"]}),
    ]

    @admin.action(description=_("Clear faults (back to normal replies)"))
    def clear_faults(self, request: HttpRequest, queryset: QuerySet[SandboxAccount]) -> None:
        updated = queryset.update(fault=Fault.NONE)
        self.message_user(
            request,
            ngettext("Faults cleared on %(n)s account.", "Faults cleared on %(n)s accounts.", updated)
            % {"n": format_count(updated)},
        )


class ReadOnlyAdmin(ReadOnlyAdminMixin, MoneyAdmin):
    pass


class SandboxRefillInline(admin.TabularInline):
    model = SandboxRefill
    extra = 0
    fields = ["id", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SandboxOrder)
class SandboxOrderAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "account",
        "service_name",
        "target",
        "cost",
        "outcome",
        "closed_status",
        "dlr_state",
        "created_at",
    ]
    list_filter = ["account__kind", "dlr_state", "outcome"]
    search_fields = ["external_id", "target", "link", "service_name"]
    list_select_related = ["account"]
    rupiah_fields = ["cost", "refund"]
    count_fields = ["quantity"]
    inlines = [SandboxRefillInline]
