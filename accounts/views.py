"""Login, the reseller's balance (ledger and deposit requests) and API key pages.

Thin views: money moves only through accounts.services; reads come from accounts.selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import AllowedIpsForm, DepositForm, LoginForm, MaskingCallbackForm
from accounts.models import ApiKey, DepositRequest, DepositStatus
from accounts.selectors import balance_of, deposit_refs, ledger_for, ledger_reason
from accounts.services import (
    AllowListInvalid,
    LedgerError,
    apikey_rotate,
    apikey_set_allowed_ips,
    apikey_set_masking_callback,
    deposit_request_create,
)
from common.views import cursor, month_range, optional_url, reseller_required

LEDGER_PAGE_SIZE = 50
DEPOSIT_LIST_SIZE = 50


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


# --- balance --------------------------------------------------------------------------------------
@reseller_required
@require_GET
def balance(request: HttpRequest) -> HttpResponse:
    """The ledger, newest first, with the balance after each entry; keyset pages (?before= / ?after=)."""
    before, after = cursor(request.GET.get("before")), cursor(request.GET.get("after"))
    entries = ledger_for(request.user)
    size = LEDGER_PAGE_SIZE
    newer = older = None
    if after is not None:
        rows = list(entries.filter(pk__gt=after).order_by("id")[: size + 1])
        more = len(rows) > size
        rows = list(reversed(rows[:size]))
        newer = rows[0].pk if more and rows else None
        older = rows[-1].pk if rows else None
    else:
        if before is not None:
            entries = entries.filter(pk__lt=before)
        rows = list(entries.order_by("-id")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        older = rows[-1].pk if more else None
        newer = rows[0].pk if before is not None and rows else None
    deposits = deposit_refs(request.user)
    for entry in rows:  # in the reader's language, whoever wrote the entry
        entry.description = ledger_reason(entry.kind, entry.order_id, entry.reason, entry.pk, deposits)
    start, end = month_range()
    pending = list(DepositRequest.objects.filter(user=request.user, status=DepositStatus.PENDING).order_by("-id")[:5])
    return render(
        request,
        "accounts/balance.html",
        {
            "balance": balance_of(request.user),
            "entries": rows,
            "newer": newer,
            "older": older,
            "pending_deposits": pending,
            "csv_url": optional_url("ledger_csv", start=start, end=end),
            "csv_start": start,
            "csv_end": end,
        },
    )


@reseller_required
@require_http_methods(["GET", "POST"])
def deposit(request: HttpRequest) -> HttpResponse:
    """Ask for a top-up (amount, method, note); an operator approves it into the ledger."""
    if request.method == "POST":
        form = DepositForm(request.POST)
        if form.is_valid():
            try:
                created = deposit_request_create(user=request.user, **form.cleaned_data)
            except LedgerError as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(
                    request,
                    _("Deposit request #%(id)s sent. Your balance is credited once an operator approves it.")
                    % {"id": created.pk},
                )
                return redirect("deposit")
    else:
        form = DepositForm()
    requests_ = list(DepositRequest.objects.filter(user=request.user).order_by("-id")[:DEPOSIT_LIST_SIZE])
    return render(
        request,
        "accounts/deposit.html",
        {"form": form, "deposits": requests_, "balance": balance_of(request.user)},
    )


# --- API key and documentation --------------------------------------------------------------------
def _api_context(
    request: HttpRequest,
    plain_key: str = "",
    ip_form: AllowedIpsForm | None = None,
    callback_form: MaskingCallbackForm | None = None,
) -> dict[str, Any]:
    base = settings.PANEL_PUBLIC_URL.rstrip("/")
    key = ApiKey.objects.filter(user=request.user).first()
    if ip_form is None:
        ip_form = AllowedIpsForm(initial={"allowed_ips": key.allowed_ips if key else ""})
    return {
        "key": key,
        "ip_form": ip_form,
        "callback_form": callback_form or MaskingCallbackForm(initial={"url": key.masking_callback_url if key else ""}),
        "plain_key": plain_key,
        "shell_key": plain_key or _("YOUR_API_KEY"),
        "base_url": base,
        "user_id": request.user.pk,
        "openapi_url": base + (optional_url("api:openapi") or "/api/openapi.json"),
        "sms_routes": ["reguler", "masking", "otp"],
        "callback_example": "https://example.com/dlr",
    }


@never_cache
@reseller_required
@require_GET
def api_key(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/api.html", _api_context(request))


@never_cache
@reseller_required
@require_POST
def api_key_rotate(request: HttpRequest) -> HttpResponse:
    """Issue a new key and show it in this response only (it is stored hashed; reloading does not show
    it again). The old key stops working at once."""
    plain = apikey_rotate(request.user)
    response = render(request, "accounts/api.html", _api_context(request, plain_key=plain))
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@reseller_required
@require_POST
def api_key_ips(request: HttpRequest) -> HttpResponse:
    """Save the key's IP allow-list; an invalid list is shown again with the reason, nothing saved."""
    form = AllowedIpsForm(request.POST)
    if form.is_valid():
        try:
            entries = apikey_set_allowed_ips(request.user, form.cleaned_data["allowed_ips"])
        except AllowListInvalid as exc:
            form.add_error("allowed_ips", str(exc))
        else:
            if entries:
                messages.success(request, _("Saved: your key now works only from the listed addresses."))
            else:
                messages.success(request, _("Saved: your key works from any address."))
            return redirect("api_key")
    return render(request, "accounts/api.html", _api_context(request, ip_form=form), status=400)


@never_cache
@reseller_required
@require_POST
def api_masking_callback(request: HttpRequest) -> HttpResponse:
    """Save the URL the masking HTTP API sends this reseller's delivery reports to (empty: none)."""
    form = MaskingCallbackForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/api.html", _api_context(request, callback_form=form), status=400)
    if not apikey_set_masking_callback(request.user, form.cleaned_data["url"]):
        messages.error(request, _("Create an API key first."))
    elif form.cleaned_data["url"]:
        messages.success(request, _("Saved: delivery reports of your masking SMS go to this address."))
    else:
        messages.success(request, _("Saved: no delivery reports are sent for your masking SMS."))
    return redirect(reverse("api_key") + "#masking")
