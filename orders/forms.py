"""The order forms of the reseller pages: one per kind. They parse and bound the raw input (so nonsense
never reaches the services) and carry the errors of `order_quote` beside their fields; the rules
themselves (min/max, stock, cutoff, segments, recipients) live in orders.quotes."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.money import format_count, format_rupiah
from orders.quotes import OTP_OPERATORS, in_cutoff
from orders.selectors import clean_text, order_services, parse_id, sms_types_available
from orders.sms import MAX_MESSAGE_CHARS
from providers.adapters.types import ProductKind
from providers.models import ROUTE_LABELS, Service

MAX_RECIPIENTS_TEXT = 30_000  # 1,000 numbers with separators fit comfortably
MAX_QUANTITY = 1_000_000_000
_THOUSANDS = re.compile(r"^\d{1,3}([.,]\d{3})+$", re.ASCII)
_ASCII_INT = re.compile(r"^[+-]?\d{1,18}$", re.ASCII)

OPERATOR_LABELS = {
    "any": _("Any operator"),
    "telkomsel": "Telkomsel",
    "axis": "Axis",
    "indosat": "Indosat",
}


class ServiceField(forms.Field):
    """A product id from the select, resolved to the Service of the form's kind (None if empty)."""

    widget = forms.Select

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        kwargs.setdefault("error_messages", {"required": _("Choose a product.")})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Service | None:
        text = str(value or "").strip()
        if not text:
            return None
        service_id = parse_id(text)
        if service_id is None:
            raise ValidationError(_("Choose a product."), code="invalid")
        service = Service.objects.select_related("provider").filter(pk=service_id, kind=self.kind).first()
        if service is None:
            raise ValidationError(_("Choose a product."), code="invalid")
        return service


class QuantityField(forms.IntegerField):
    """A whole number; Indonesian thousands separators (1.000) are accepted."""

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str):
            value = value.strip().replace(" ", "")
            if _THOUSANDS.match(value):
                value = value.replace(".", "").replace(",", "")
            if value and not _ASCII_INT.match(value):  # also refuses 1e3, 1.5 and non-ASCII digits
                raise ValidationError(_("Enter a whole number."), code="invalid")
        return super().to_python(value)


class OrderForm(forms.Form):
    """Common behaviour; subclasses declare the fields of one kind."""

    kind: ProductKind
    # Fields whose text can span lines: rendered as hidden textareas on the confirmation page.
    multiline: tuple[str, ...] = ()

    def __init__(
        self, data: Any = None, *, user: User, category: str = "", initial: dict | None = None, **kwargs: Any
    ) -> None:
        super().__init__(data, initial=initial, **kwargs)
        self.user = user
        self.category = clean_text(category, 150)
        self.truncated = False
        if "service" in self.fields:
            self._service_choices()

    def _service_choices(self) -> None:
        prices, self.truncated = order_services(self.user, self.kind, self.category)
        unit = {ProductKind.SMM: _("/ 1000")}.get(self.kind, "")
        groups: dict[str, list[tuple[str, str]]] = {}
        now = timezone.now()
        for price in prices:
            label = f"{price.service.name} · {format_rupiah(price.price)} {unit}".strip()
            note = ""
            if not price.service.in_stock:
                note = _("out of stock")
            elif in_cutoff(price.service, now):
                note = _("closed now")
            if note:
                label = f"{label} ({note})"
            groups.setdefault(price.service.category or "-", []).append((str(price.service_id), label))
        chosen = str((self.data.get("service") if self.is_bound else None) or self.initial.get("service") or "")
        known = {value for options in groups.values() for value, _label in options}
        choices: list[Any] = [("", _("Choose a product"))]
        if parse_id(chosen) and chosen not in known:
            service = Service.objects.filter(pk=parse_id(chosen), kind=self.kind).first()
            if service is not None:
                choices.append((chosen, service.name))
        choices.extend((group, options) for group, options in groups.items())
        self.fields["service"].widget.choices = choices

    # --- what the services take -------------------------------------------------------------------
    def order_args(self) -> dict[str, Any]:
        """Keyword arguments for order_quote / order_place (call after is_valid())."""
        data = self.cleaned_data
        args: dict[str, Any] = {"kind": self.kind.value}
        for name in self.fields:
            args[name] = data.get(name)
        return args

    def apply_errors(self, errors: dict[str, str]) -> None:
        """Show the errors of OrderInvalid beside their fields (general ones above the form)."""
        for name, message in errors.items():
            if name not in self.fields:
                self.add_error(None, message)
            elif name not in self.errors:  # a field that already has an error keeps its own message
                self.add_error(name, message)

    def raw_items(self) -> list[tuple[str, str, bool]]:
        """(name, raw value, multiline) of every field, to carry the request through the confirmation."""
        return [(name, str(self.data.get(name, "")), name in self.multiline) for name in self.fields]

    def summary(self) -> list[tuple[str, str]]:
        """Label and value lines for the confirmation page."""
        lines = []
        service = self.cleaned_data.get("service")
        if service is not None:
            lines.append((str(_("Product")), f"{service.name}"))
        return lines


class OtpOrderForm(OrderForm):
    kind = ProductKind.OTP
    service = ServiceField(kind=ProductKind.OTP, label=_("Service"))
    operator = forms.ChoiceField(
        label=_("Operator"),
        choices=[(op, OPERATOR_LABELS[op]) for op in OTP_OPERATORS],
        initial="any",
        error_messages={"required": _("Choose an operator."), "invalid_choice": _("Choose an operator.")},
    )

    def summary(self) -> list[tuple[str, str]]:
        return [*super().summary(), (str(_("Operator")), str(OPERATOR_LABELS[self.cleaned_data["operator"]]))]


class SmmOrderForm(OrderForm):
    kind = ProductKind.SMM
    service = ServiceField(kind=ProductKind.SMM, label=_("Service"))
    link = forms.CharField(
        label=_("Link"),
        max_length=500,
        help_text=_("The full address of the profile or post, starting with https://"),
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off", "placeholder": "https://"}),
    )
    quantity = QuantityField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )

    def summary(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        quantity = format_count(data["quantity"])
        return [*super().summary(), (str(_("Link")), data["link"]), (str(_("Quantity")), quantity)]


class PrepaidOrderForm(OrderForm):
    kind = ProductKind.PREPAID
    service = ServiceField(kind=ProductKind.PREPAID, label=_("Product"))
    target = forms.CharField(
        label=_("Destination number"),
        max_length=30,
        help_text=_("The phone or customer number to top up, e.g. 081234567890."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def summary(self) -> list[tuple[str, str]]:
        return [*super().summary(), (str(_("Destination number")), self.cleaned_data["target"])]


class SmsOrderForm(OrderForm):
    kind = ProductKind.SMS
    multiline = ("message", "recipients")
    sms_type = forms.ChoiceField(
        label=_("SMS type"),
        choices=[],
        error_messages={
            "required": _("Choose an SMS type."),
            "invalid_choice": _("This SMS type is not available right now."),
        },
    )
    message = forms.CharField(
        label=_("Message"),
        max_length=MAX_MESSAGE_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a message.")},
    )
    recipients = forms.CharField(
        label=_("Recipients"),
        max_length=MAX_RECIPIENTS_TEXT,
        help_text=_("One number per line or separated by commas, e.g. 081234567890. At most 1.000 numbers."),
        widget=forms.Textarea(attrs={"rows": 4, "inputmode": "tel"}),
        error_messages={"required": _("Enter at least one number.")},
    )
    schedule_at = forms.DateTimeField(
        label=_("Send at (WIB, optional)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to send now."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sms_type"].choices = [("", _("Choose an SMS type"))] + [
            (t, ROUTE_LABELS[t]) for t in sms_types_available()
        ]

    def order_args(self) -> dict[str, Any]:
        args = super().order_args()
        args["schedule_at"] = args.get("schedule_at") or None
        return args

    def summary(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        lines = [(str(_("SMS type")), ROUTE_LABELS.get(data["sms_type"], data["sms_type"]))]
        if data.get("schedule_at"):
            when = formats.date_format(timezone.localtime(data["schedule_at"]), "d M Y H:i")
            lines.append((str(_("Send at")), f"{when} WIB"))
        return lines


ORDER_FORMS: dict[str, type[OrderForm]] = {
    ProductKind.OTP: OtpOrderForm,
    ProductKind.SMM: SmmOrderForm,
    ProductKind.PREPAID: PrepaidOrderForm,
    ProductKind.SMS: SmsOrderForm,
}
