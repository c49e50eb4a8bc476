"""Validating an order request and pricing it, before any money moves.

`order_quote` is shared by the order forms (live price), the API and `order_place`: one set of rules.
Problems are collected per field, each with a message a form shows beside its input and a `Problem`
code that a downstream protocol maps to its own error (one table per protocol, orders/api/*): nobody
parses messages, and nobody checks again what the quote checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tier, User
from accounts.money import ceil_rupiah, format_count, to_money
from orders.sms import MAX_MESSAGE_CHARS, MAX_RECIPIENTS, Segments, count_segments, parse_recipients
from providers.adapters.types import FINAL_STATUSES, ProductKind
from providers.models import Service
from providers.pricing import price_for

WIB = ZoneInfo("Asia/Jakarta")
OTP_OPERATORS = ("any", "telkomsel", "axis", "indosat")
MAX_SCHEDULE_AHEAD = timedelta(days=30)
_WHOLE = re.compile(r"-?[0-9]+")
_OUT_OF_RANGE_DIGITS = 40  # a longer number is beyond every maximum: compared as 10**40, never parsed


class Problem(StrEnum):
    """Why a request cannot become an order."""

    UNKNOWN_KIND = "unknown_kind"
    SMS_TYPE_UNAVAILABLE = "sms_type_unavailable"
    NO_PRODUCT = "no_product"  # none chosen, or not of this kind
    UNAVAILABLE = "unavailable"  # switched off here or gone upstream
    NOT_FOR_SALE = "not_for_sale"  # no price for the reseller's tier
    OUT_OF_STOCK = "out_of_stock"
    IN_CUTOFF = "in_cutoff"  # prepaid: inside the product's daily cutoff window
    PROVIDER_BUSY = "provider_busy"  # OTP: the provider's bulkhead or breaker refused at once
    BAD_OPERATOR = "bad_operator"
    BAD_LINK = "bad_link"
    NOT_A_NUMBER = "not_a_number"
    BELOW_MINIMUM = "below_minimum"
    ABOVE_MAXIMUM = "above_maximum"
    BAD_TARGET = "bad_target"
    BAD_MESSAGE = "bad_message"
    BAD_RECIPIENTS = "bad_recipients"
    BAD_SCHEDULE = "bad_schedule"
    REPEAT_OPEN = "repeat_open"  # prepaid, `multi` off: an order of this product for this target is still open
    FREE = "free"  # would cost nothing
    INSUFFICIENT_BALANCE = "insufficient_balance"


class Problems(dict[str, str]):
    """Field name ("__all__" for the whole request) -> a message fit to show the reseller, with the
    `Problem` of each field in `codes`."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: dict[str, Problem] = {}

    def add(self, name: str, code: Problem, message: str) -> None:
        self[name] = message
        self.codes[name] = code


class OrderInvalid(Exception):
    """The request cannot become an order: `errors` (field -> message) for forms, `codes` (field ->
    Problem) for the protocols' error tables."""

    def __init__(self, errors: Problems) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.codes = errors.codes

    @classmethod
    def of(cls, name: str, code: Problem, message: str) -> OrderInvalid:
        problems = Problems()
        problems.add(name, code, message)
        return cls(problems)

    @property
    def message(self) -> str:
        return " ".join(self.errors.values())

    def first(self, *codes: Problem) -> Problem | None:
        """The first of `codes` (a protocol's order of precedence) this request has, else None."""
        found = set(self.codes.values())
        return next((code for code in codes if code in found), None)


@dataclass
class Quote:
    service: Service
    kind: ProductKind
    unit_price: Decimal
    unit_cost: Decimal
    quantity: int  # SMM units / SMS segments x recipients / 1
    charge: Decimal
    cost: Decimal
    target: str = ""
    operator: str = ""
    message: str = ""
    segments: int = 0
    encoding: str = ""
    recipients: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()  # SMS from the bulk API: one text per recipient (else `message` for all)
    recipient_segments: tuple[int, ...] = ()  # SMS parts of each recipient's text, with `messages`
    invalid_recipients: tuple[str, ...] = ()
    schedule_at: datetime | None = None
    routes: list[Service] = field(default_factory=list)  # SMS: fallbacks in priority order


def order_amounts(kind: str, unit_price: Decimal, unit_cost: Decimal, units: int) -> tuple[Decimal, Decimal]:
    """(charge, cost) of `units` of a product: SMM is priced per 1,000, every other kind per unit (an SMS
    part to one number). The charge rounds up to whole Rupiah. The one formula for what an order costs:
    order_quote prices every request with it, and the demo seeder its orders."""
    if kind == ProductKind.SMM:
        return ceil_rupiah(unit_price * units / 1000), to_money(unit_cost * units / 1000)
    return ceil_rupiah(unit_price * units), to_money(unit_cost * units)


def user_tier(user: User) -> Tier | None:
    return user.tier or Tier.objects.filter(is_default=True).first()


def repeat_open(user: User, service: Service, target: str) -> bool:
    """A product without `multi` (Osimesa "multi": "0") takes no second order for the same target while the
    reseller's first is not final (submitting, pending, processing or unknown): the vendor would refuse it."""
    from orders.models import Order  # orders.models imports this module's neighbours; keep the import local

    if service.multi or not target:
        return False
    return (
        Order.objects.filter(user=user, service=service, target=target)
        .exclude(status__in=[s.value for s in FINAL_STATUSES])
        .exists()
    )


def repeat_refusal() -> OrderInvalid:
    return OrderInvalid.of(
        "target",
        Problem.REPEAT_OPEN,
        _("An order of this product for this number is still being processed; wait until it has finished."),
    )


def in_cutoff(service: Service, now: datetime) -> bool:
    """Is `now` inside the service's daily cutoff window (WIB)? Windows may cross midnight."""
    start, end = service.cutoff_start, service.cutoff_end
    if start is None or end is None or start == end:
        return False
    local = now.astimezone(WIB).time().replace(second=0, microsecond=0)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def sms_routes(route_type: str) -> list[Service]:
    """The enabled routes of one SMS type, in the operator's priority order."""
    return list(
        Service.objects.filter(
            kind=ProductKind.SMS, external_id=route_type, is_active=True, is_enabled=True, provider__enabled=True
        )
        .select_related("provider")
        .order_by("route_priority", "pk")
    )


def _int(value: object, field_name: str, errors: Problems) -> int | None:
    """A whole number in ASCII digits (int() would also read Arabic-Indic or full-width digits). A number
    of any length is a number: a 20-digit quantity is above the maximum, not "not a whole number"."""
    text = str(value if value is not None else "").strip()
    if not _WHOLE.fullmatch(text):
        errors.add(field_name, Problem.NOT_A_NUMBER, _("Enter a whole number."))
        return None
    digits = text.lstrip("-")
    if len(digits) > _OUT_OF_RANGE_DIGITS:  # int() of thousands of digits is slow, then refused by Python
        return -(10**_OUT_OF_RANGE_DIGITS) if text.startswith("-") else 10**_OUT_OF_RANGE_DIGITS
    return int(text)


def storable(text: str) -> bool:
    """Text the database can keep (PostgreSQL refuses NUL in text columns)."""
    return "\x00" not in text


def _valid_link(link: str) -> bool:
    if len(link) > 500 or not storable(link) or any(ch.isspace() for ch in link):
        return False
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and "." in (parts.hostname or "")


def order_quote(
    user: User,
    *,
    kind: str,
    service: Service | None = None,
    sms_type: str = "",
    quantity: object = None,
    link: str = "",
    target: str = "",
    operator: str = "any",
    message: str = "",
    recipients: str | list[str] = "",
    packets: list[tuple[str, str]] | None = None,
    schedule_at: datetime | None = None,
    now: datetime | None = None,
    counter: Callable[[str], Segments] = count_segments,
) -> Quote:
    """Validate and price a request for `user`. Raises OrderInvalid listing every problem found.

    SMS takes either one `message` for all `recipients`, or `packets`: (normalized number, text) pairs
    from the bulk API, each text priced by its own segments. `counter` counts a text's SMS parts: the
    panel's GSM-7/UCS-2 rule, or a downstream protocol's own (masking: per 160 characters)."""
    now = now or timezone.now()
    errors = Problems()
    try:
        kind = ProductKind(kind)
    except ValueError:
        raise OrderInvalid.of("kind", Problem.UNKNOWN_KIND, _("Unknown product kind.")) from None

    routes: list[Service] = []
    if kind == ProductKind.SMS:
        routes = sms_routes(sms_type)
        if not routes:
            raise OrderInvalid.of(
                "sms_type", Problem.SMS_TYPE_UNAVAILABLE, _("This SMS type is not available right now.")
            )
        service = routes[0]
    if service is None or service.kind != kind:
        raise OrderInvalid.of("service", Problem.NO_PRODUCT, _("Choose a product."))
    if not (service.is_active and service.is_enabled and service.provider.enabled):
        raise OrderInvalid.of("service", Problem.UNAVAILABLE, _("This product is not available right now."))
    price = price_for(service, user_tier(user))
    if price is None or not price.on_sale:
        raise OrderInvalid.of("service", Problem.NOT_FOR_SALE, _("This product is not for sale right now."))
    unit_cost = service.cost
    charge, cost = order_amounts(kind, price.price, unit_cost, 1)  # OTP and prepaid: one unit
    quote = Quote(
        service=service,
        kind=kind,
        unit_price=price.price,
        unit_cost=unit_cost,
        quantity=1,
        charge=charge,
        cost=cost,
        routes=routes,
    )

    if kind == ProductKind.OTP:
        if operator not in OTP_OPERATORS:
            errors.add("operator", Problem.BAD_OPERATOR, _("Choose an operator."))
        if not service.in_stock:
            errors.add("service", Problem.OUT_OF_STOCK, _("No numbers in stock for this service."))
        quote.operator = operator
    elif kind == ProductKind.SMM:
        link = (link or "").strip()
        if not _valid_link(link):
            errors.add("link", Problem.BAD_LINK, _("Enter a full link starting with https://."))
        number = _int(quantity, "quantity", errors)
        if number is not None and not service.min_qty <= number <= service.max_qty:
            code = Problem.BELOW_MINIMUM if number < service.min_qty else Problem.ABOVE_MAXIMUM
            message = _("For this service the quantity must be between %(min)s and %(max)s.") % {
                "min": format_count(service.min_qty),
                "max": format_count(service.max_qty),
            }
            errors.add("quantity", code, message)
        if number is not None and "quantity" not in errors:
            quote.quantity = number
            quote.charge, quote.cost = order_amounts(kind, price.price, unit_cost, number)
        quote.target = link
    elif kind == ProductKind.PREPAID:
        digits = "".join(ch for ch in (target or "") if "0" <= ch <= "9")
        if not 6 <= len(digits) <= 20 or len(target.strip()) > 30 or not storable(target):
            errors.add("target", Problem.BAD_TARGET, _("Enter the destination number (6 to 20 digits)."))
        if not service.in_stock:
            errors.add("service", Problem.OUT_OF_STOCK, _("This product is out of stock."))
        elif in_cutoff(service, now):
            message = _("This product cannot be bought between %(start)s and %(end)s WIB.") % {
                "start": service.cutoff_start.strftime("%H:%M"),
                "end": service.cutoff_end.strftime("%H:%M"),
            }
            errors.add("service", Problem.IN_CUTOFF, message)
        if "target" not in errors and repeat_open(user, service, digits):
            errors.add("target", Problem.REPEAT_OPEN, repeat_refusal().message)
        quote.target = digits
    elif packets is not None:
        _quote_packets(quote, packets, errors, counter)
        _check_schedule(quote, schedule_at, now, errors)
        quote.charge, quote.cost = order_amounts(kind, price.price, unit_cost, quote.quantity)
    else:  # SMS
        message = (message or "").replace("\r\n", "\n")
        segments = counter(message)
        problem = _message_problem(message)
        if problem:
            errors.add("message", Problem.BAD_MESSAGE, problem)
        parsed = parse_recipients(recipients)
        if parsed.invalid:
            shown = ", ".join(parsed.invalid[:10]) + ("…" if len(parsed.invalid) > 10 else "")
            message = _("Not Indonesian mobile numbers: %(numbers)s") % {"numbers": shown}
            errors.add("recipients", Problem.BAD_RECIPIENTS, message)
        elif not parsed.valid:
            errors.add("recipients", Problem.BAD_RECIPIENTS, _("Enter at least one number."))
        elif len(parsed.valid) > MAX_RECIPIENTS:
            _too_many_recipients(errors)
        _check_schedule(quote, schedule_at, now, errors)
        quote.message, quote.segments, quote.encoding = message, segments.count, segments.encoding
        quote.recipients, quote.invalid_recipients = parsed.valid, parsed.invalid
        units = segments.count * len(parsed.valid)
        quote.quantity = max(units, 1)
        quote.charge, quote.cost = order_amounts(kind, price.price, unit_cost, units)
    if errors:
        raise OrderInvalid(errors)
    if quote.charge <= 0:
        raise OrderInvalid.of("__all__", Problem.FREE, _("This order would cost nothing; it cannot be placed."))
    return quote


def _message_problem(text: str) -> str:
    """Why an SMS text cannot be sent ("" when it can)."""
    if not text.strip():
        return _("Write a message.")
    if len(text) > MAX_MESSAGE_CHARS:
        return _("A message can have at most %(n)s characters.") % {"n": MAX_MESSAGE_CHARS}
    if not storable(text):
        return _("The message contains a character that cannot be sent.")
    return ""


def too_many_recipients_message() -> str:
    return _("At most %(n)s numbers per send.") % {"n": format_count(MAX_RECIPIENTS)}


def _too_many_recipients(errors: Problems) -> None:
    errors.add("recipients", Problem.BAD_RECIPIENTS, too_many_recipients_message())


def _check_schedule(quote: Quote, schedule_at: datetime | None, now: datetime, errors: Problems) -> None:
    if schedule_at is not None and not now < schedule_at <= now + MAX_SCHEDULE_AHEAD:
        errors.add("schedule_at", Problem.BAD_SCHEDULE, _("The schedule must be in the next 30 days."))
    quote.schedule_at = schedule_at


def _quote_packets(
    quote: Quote, packets: list[tuple[str, str]], errors: Problems, counter: Callable[[str], Segments]
) -> None:
    """The bulk API's packets: numbers already normalized, (number, text) pairs distinct, each text
    priced by its own segments. Every text must be sendable; the first bad one names the problem."""
    if not packets:
        errors.add("recipients", Problem.BAD_RECIPIENTS, _("Enter at least one number."))
        return
    if len(packets) > MAX_RECIPIENTS:
        _too_many_recipients(errors)
        return
    texts = [text.replace("\r\n", "\n") for _number, text in packets]
    problem = next((p for p in map(_message_problem, texts) if p), "")
    if problem:
        errors.add("message", Problem.BAD_MESSAGE, problem)
        return
    counted = [counter(text) for text in texts]
    quote.recipients = tuple(number for number, _text in packets)
    quote.quantity = sum(c.count for c in counted)
    if len(set(texts)) == 1:  # one text for everyone: an ordinary send
        quote.message, quote.segments, quote.encoding = texts[0], counted[0].count, counted[0].encoding
    else:
        quote.messages = tuple(texts)
        quote.recipient_segments = tuple(c.count for c in counted)
        quote.segments = max(quote.recipient_segments)
        quote.encoding = "UCS-2" if any(c.encoding == "UCS-2" for c in counted) else "GSM-7"
