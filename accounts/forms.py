"""Forms of the reseller's account pages. They bound and parse the input; the rules (minimum and
maximum deposit, methods) are checked again by accounts.services."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import DepositMethod
from accounts.money import InvalidAmount, format_rupiah, to_money
from accounts.services import MAX_DEPOSIT, MIN_DEPOSIT

# Django's Indonesian "Masukkan nama pengguna %(username)s dan sandi..." fills %(username)s with the field's
# name, which is itself "nama pengguna": the message said it twice. Ours names the field once.
WRONG_LOGIN = _("Wrong username or password. Capital and small letters count.")


class LoginForm(AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": WRONG_LOGIN}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = _("Enter your username.")
        self.fields["password"].error_messages["required"] = _("Enter your password.")


class DepositForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount (Rp)"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter the amount you will transfer.")},
    )
    method = forms.ChoiceField(
        label=_("Payment method"),
        choices=DepositMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a payment method."), "invalid_choice": _("Choose a payment method.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=300,
        required=False,
        help_text=_("E.g. the sender's bank account name or the transfer reference."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = gettext("Between %(min)s and %(max)s, e.g. 500000 or 500.000.") % {
            "min": format_rupiah(MIN_DEPOSIT),
            "max": format_rupiah(MAX_DEPOSIT),
        }

    def clean_amount(self) -> Decimal:
        text: Any = self.cleaned_data["amount"]
        try:
            amount = to_money(text)
        except InvalidAmount:
            raise ValidationError(_("Enter an amount in Rupiah, e.g. 500000."), code="invalid") from None
        if amount != amount.to_integral_value():
            raise ValidationError(_("Enter a whole number of Rupiah."), code="invalid")
        return amount  # the range is checked by deposit_request_create

    def clean_note(self) -> str:
        note = self.cleaned_data.get("note") or ""
        # Control characters have no place in a note an operator reads in the admin.
        return "".join(ch for ch in note if ch in "\n\t" or ch.isprintable()).strip()


class AllowedIpsForm(forms.Form):
    """The API key's allow-list as typed; accounts.services.apikey_set_allowed_ips parses and checks it."""

    allowed_ips = forms.CharField(
        label=_("Allowed IP addresses"),
        required=False,
        max_length=4000,
        help_text=_(
            "One address or CIDR range per line or separated by commas, IPv4 or IPv6 (e.g. 203.0.113.7, "
            "203.0.113.0/24, 2001:db8::/32). Calls with your key from any other address are refused. "
            "Leave empty to allow any address."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": _("The list is too long.")},
    )


class MaskingCallbackForm(forms.Form):
    """The URL the masking HTTP API sends delivery reports to (empty = none). Only the form is checked here;
    orders.forwarding resolves the host before every call and refuses addresses inside the network."""

    url = forms.CharField(
        label=_("Delivery report URL"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://toko.example/delivreq.php", "autocomplete": "off"}),
    )

    def clean_url(self) -> str:
        url = (self.cleaned_data.get("url") or "").strip()
        if not url:
            return ""
        bad = ValidationError(_("Enter a full address starting with http:// or https://."), code="invalid")
        if any(ch.isspace() or not ch.isprintable() for ch in url):
            raise bad
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
        except ValueError:
            raise bad from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad
        if parts.username or parts.password:
            raise ValidationError(_("The address may not contain a user name or password."), code="credentials")
        if _inside_the_network(parts.hostname):
            raise ValidationError(_("The address must be reachable from the internet."), code="private")
        return url


def _inside_the_network(hostname: str) -> bool:
    """A literal address that is not public, or localhost (names are resolved when reports are sent). The
    sandbox and DEBUG allow them, as orders.forwarding does."""
    if getattr(settings, "SANDBOX_ENABLED", False) or settings.DEBUG:
        return False
    if hostname.rstrip(".").lower() == "localhost" or hostname.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast
