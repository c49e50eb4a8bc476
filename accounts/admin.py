"""Operator screens for users, tiers and the ledger. Balances are read-only here: they change only
through the ledger services (the "adjust balance" action writes an entry with a reason)."""

from __future__ import annotations

import logging
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.admin_paging import EstimatedCountPaginator

from .admin_money import MoneyAdmin
from .models import ApiKey, DepositRequest, DepositStatus, LedgerEntry, Tier, User, Wallet
from .money import InvalidAmount, format_count, format_rupiah, to_money
from .services import LedgerError, deposit_approve, deposit_reject, wallet_adjust

logger = logging.getLogger(__name__)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_order", "is_default", "description"]
    list_editable = ["sort_order"]


class AdjustBalanceForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount (Rp)"), max_length=20, help_text=_("Negative to take money out, e.g. -25.000.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_amount(self):
        try:
            value = to_money(self.cleaned_data["amount"])
        except InvalidAmount:
            raise forms.ValidationError(_("Enter an amount in Rupiah, e.g. 50.000 or -25.000.")) from None
        if not value:
            raise forms.ValidationError(_("The amount must not be zero."))
        return value


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "tier", "balance_display", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "tier"]
    list_select_related = ["tier", "wallet"]
    readonly_fields = ["balance_display", "last_login", "date_joined"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Reseller"), {"fields": ("tier", "phone", "balance_display")}),
    )
    actions = ["adjust_balance"]

    @admin.display(description=_("balance"))
    def balance_display(self, obj: User) -> str:
        wallet = getattr(obj, "wallet", None)
        return format_rupiah(wallet.balance if wallet else 0)

    @admin.action(description=_("Adjust balance (writes a ledger entry)"))
    def adjust_balance(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if "apply" in request.POST:
            form = AdjustBalanceForm(request.POST)
            if form.is_valid():
                done = 0
                for user in queryset:
                    try:
                        wallet_adjust(
                            user=user,
                            amount=form.cleaned_data["amount"],
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                        )
                        done += 1
                    except LedgerError as exc:
                        self.message_user(
                            request, _("%(user)s: %(error)s") % {"user": user, "error": exc}, messages.ERROR
                        )
                if done:
                    self.message_user(
                        request,
                        ngettext(
                            "Adjusted %(n)s balance by %(amount)s.", "Adjusted %(n)s balances by %(amount)s.", done
                        )
                        % {"n": format_count(done), "amount": format_rupiah(form.cleaned_data["amount"])},
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(request.get_full_path())
        else:
            form = AdjustBalanceForm()
        return TemplateResponse(
            request,
            "admin/accounts/adjust_balance.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Adjust balance"),
                "form": form,
                "users": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(MoneyAdmin):
    list_display = ["id", "created_at", "wallet_user", "kind", "amount", "balance_after", "order_id", "reason", "actor"]
    rupiah_fields = ["amount", "balance_after"]
    list_filter = ["kind", "created_at"]
    search_fields = ["wallet__user__username", "=order_id", "reason"]
    list_select_related = ["wallet__user", "actor"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # as the orders list: no full COUNT of the whole ledger per page view

    @admin.display(description=_("reseller"), ordering="wallet__user__username")
    def wallet_user(self, obj: LedgerEntry) -> str:
        return obj.wallet.user.username

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(MoneyAdmin):
    list_display = ["user", "balance", "updated_at"]
    rupiah_fields = ["balance"]
    search_fields = ["user__username"]
    list_select_related = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Only the prefix is shown; the key itself is never stored."""

    list_display = ["user", "prefix", "created_at", "last_used_at"]
    fields = ["user", "prefix", "created_at", "last_used_at", "allowed_ips", "masking_callback_url"]
    readonly_fields = fields  # both are the reseller's, set on their API page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class RejectDepositForm(forms.Form):
    decision_note = forms.CharField(
        label=_("Reason for the reseller"),
        max_length=300,
        help_text=_('Shown to the reseller, e.g. "transfer not received".'),
    )


@admin.register(DepositRequest)
class DepositRequestAdmin(MoneyAdmin):
    """Top-up requests. Nothing is edited here: approval goes through deposit_approve (credits the wallet
    exactly once, however often it is clicked), rejection through deposit_reject (with a note)."""

    list_display = [
        "id",
        "created_at",
        "user",
        "amount",
        "method",
        "status",
        "note",
        "decided_at",
        "decided_by",
        "ledger_entry_link",
    ]
    list_filter = ["status", "method", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "user__username", "note"]
    list_select_related = ["user", "decided_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["approve", "reject"]
    fields = [
        "user",
        "amount",
        "method",
        "note",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note",
        "ledger_entry_link",
    ]
    readonly_fields = fields
    rupiah_fields = ["amount"]

    @admin.display(description=_("ledger entry"), ordering="ledger_entry")
    def ledger_entry_link(self, obj: DepositRequest) -> str:
        if not obj.ledger_entry_id:
            return "-"
        url = reverse("admin:accounts_ledgerentry_change", args=[obj.ledger_entry_id])
        return format_html('<a href="{}">#{}</a>', url, obj.ledger_entry_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # read-only page; decisions are the actions below

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_depositrequest")

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        extra = {**(extra_context or {}), "can_decide": self.has_decide_permission(request)}
        extra["action_checkbox_name"] = admin.helpers.ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description=_("Approve (credit the balance)"), permissions=["decide"])
    def approve(self, request: HttpRequest, queryset) -> None:
        approved, skipped, credited = 0, 0, Decimal(0)
        for deposit in queryset.select_related("user"):
            try:
                done = deposit_approve(deposit, actor=request.user)
            except (LedgerError, DatabaseError) as exc:  # rolled back inside the service: nothing credited
                logger.exception("deposit %s: approval failed", deposit.pk)
                self.message_user(
                    request,
                    _("Deposit #%(id)s was not approved: %(error)s") % {"id": deposit.pk, "error": exc},
                    messages.ERROR,
                )
                continue
            if done:
                approved += 1
                credited += deposit.amount
            else:
                skipped += 1
        if approved:
            self.message_user(
                request,
                ngettext(
                    "Approved %(n)s deposit (%(amount)s); the balance was credited.",
                    "Approved %(n)s deposits (%(amount)s); the balances were credited.",
                    approved,
                )
                % {"n": format_count(approved), "amount": format_rupiah(credited)},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d request was already decided and was left unchanged.",
                    "%(n)d requests were already decided and were left unchanged.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Reject (asks for a note)"), permissions=["decide"])
    def reject(self, request: HttpRequest, queryset) -> HttpResponse | None:
        form = RejectDepositForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            rejected, skipped = 0, 0
            for deposit in queryset:
                if deposit_reject(deposit, actor=request.user, note=form.cleaned_data["decision_note"]):
                    rejected += 1
                else:
                    skipped += 1
            if rejected:
                self.message_user(
                    request,
                    ngettext("Rejected %(n)d deposit.", "Rejected %(n)d deposits.", rejected) % {"n": rejected},
                    messages.SUCCESS,
                )
            if skipped:
                self.message_user(
                    request,
                    ngettext(
                        "%(n)d request was already decided and was left unchanged.",
                        "%(n)d requests were already decided and were left unchanged.",
                        skipped,
                    )
                    % {"n": skipped},
                    messages.WARNING,
                )
            return HttpResponseRedirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/accounts/deposit_reject.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Reject deposit requests"),
                "form": form,
                "deposits": queryset.select_related("user"),
                "pending_status": DepositStatus.PENDING,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )
