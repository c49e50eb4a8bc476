"""SMM panel API v2-compatible `POST /api/v2` (provider-docs 001 plus the wider v2 family): form `key` +
`action` (or `Authorization: Bearer`); services, add, status (`order` or `orders=` up to 100), balance,
refill (`order` or `orders=`), refill_status (`refill` or `refills=`), cancel (`orders=` or `order`).
Failures are HTTP 200 `{"error": "..."}` in the family's English texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from accounts.selectors import balance_of
from orders.models import Order
from orders.placement import order_place
from orders.quotes import OrderInvalid, Problem
from orders.services import OrderActionError, order_action
from providers.adapters.errors import ProviderError, ProviderNotSupported
from providers.adapters.types import Capability, ProductKind, Status
from providers.models import Service
from providers.services import provider_adapter

from .catalogue import find_service, own_order, refresh_if_stale, sellable
from .common import (
    HTTP_STATUS,
    Reason,
    amount_text,
    api_endpoint,
    ascii_int,
    authenticate,
    bearer_token,
    form_params,
    json_reply,
)
from .idempotency import accepted, idempotent

INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_ORDER = "Incorrect order ID"
INCORRECT_LINK = "Incorrect link"
INCORRECT_REFILL = "Incorrect refill ID"
NO_FUNDS = "Not enough funds on balance"
REFILL_UNAVAILABLE = "Refill is not available for this service"
NOT_COMPLETED = "Order is not completed yet"
REFILL_FAILED = "Refill request was refused"
REFILL_STATUS_UNAVAILABLE = "Refill status is not available right now"
CANCEL_UNAVAILABLE = "Cancel is not available for this service"
CANNOT_CANCEL = "Order can not be canceled"
UNSUPPORTED = "This parameter is not supported"
MAX_IDS = 100

_MESSAGES = {
    Reason.AUTH: INVALID_KEY,
    Reason.RATE_LIMITED: "Too many requests, slow down",
    Reason.TOO_LARGE: "Request too large",
    Reason.METHOD: INCORRECT_REQUEST,
    Reason.MALFORMED: INCORRECT_REQUEST,
    Reason.INTERNAL: "Internal error, try again later",
    Reason.IP_NOT_ALLOWED: "IP address is not allowed for this API key",
    Reason.KEY_INVALID: "Invalid Idempotency-Key",
    Reason.KEY_REUSED: "Idempotency-Key was already used for a different request",
    Reason.KEY_IN_FLIGHT: "A request with this Idempotency-Key is still in progress",
}
# Panel status -> the document's words. Where one panel status stands for two of them, the upstream's own
# word (the order's raw status) decides, so the reseller reads what the vendor's customers read:
# processing -> Processing or In progress; canceled -> Refunded when the vendor refunded it, else Canceled;
# failed -> Error when the vendor reported an error after accepting it, else Canceled (refused before it
# ran, or resolved as failed: refunded in full, which the family's clients know as Canceled).
# An order whose placement reply was lost is still Pending for the reseller.
STATUS_WORDS = {
    Status.SUBMITTING: "Pending",
    Status.UNKNOWN: "Pending",
    Status.PENDING: "Pending",
    Status.PROCESSING: "In progress",
    Status.COMPLETED: "Completed",
    Status.PARTIAL: "Partial",
    Status.CANCELED: "Canceled",
    Status.FAILED: "Canceled",
}
_UPSTREAM_WORDS = {
    Status.PROCESSING: ("Processing", "In progress"),
    Status.CANCELED: ("Refunded",),
    Status.FAILED: ("Error",),
}
# add parameters of the wider family this panel does not offer (drip-feed, custom comments, subscriptions)
_UNSUPPORTED_ADD = ("runs", "interval", "comments", "usernames", "hashtags", "posts", "delay", "expiry")


def error(message: str, status: int = 200) -> HttpResponse:
    return json_reply({"error": message}, status=status)


def fail(reason: Reason) -> HttpResponse:
    return error(_MESSAGES[reason], HTTP_STATUS[reason])


def _ids(raw: str) -> list[str] | None:
    """`1,2,3` -> ids (kept as sent, for the reply keys); None when empty or more than 100."""
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    return ids if 0 < len(ids) <= MAX_IDS else None


def _echo_id(raw: str) -> int | str:
    number = ascii_int(raw, max_digits=18)
    return number if number is not None else raw


def _orders(user: User, ids: list[str]) -> dict[str, Order]:
    wanted = {raw: number for raw in ids if (number := ascii_int(raw, max_digits=18)) is not None}
    found = {
        order.pk: order
        for order in Order.objects.filter(user=user, kind=ProductKind.SMM, pk__in=set(wanted.values())).select_related(
            "service", "provider"
        )
    }
    return {raw: found[pk] for raw, pk in wanted.items() if pk in found}


# --- documented actions -----------------------------------------------------------------------------
def _services(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    rows = list(sellable(user, ProductKind.SMM, request))
    capabilities: dict[int, frozenset[Capability]] = {}
    for row in rows:
        provider = row.service.provider
        if provider.pk not in capabilities:
            capabilities[provider.pk] = provider_adapter(provider).effective_capabilities()
    data = []
    for row in rows:
        service, caps = row.service, capabilities[row.service.provider_id]
        data.append(
            {
                "service": str(service.pk),
                "name": service.name,
                "category": service.category,
                "type": service.service_type or "Default",
                "rate": amount_text(row.price),
                "min": str(service.min_qty),
                "max": str(service.max_qty),
                "refill": bool(service.can_refill and Capability.REFILL in caps),
                "cancel": bool(service.can_cancel and Capability.CANCEL in caps),
            }
        )
    return json_reply(data)


@idempotent(fail)
def _add(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    if any(p.get(name, "").strip() for name in _UNSUPPORTED_ADD):
        return error(UNSUPPORTED)
    found = find_service(user, ProductKind.SMM, p.get("service"), request)
    if not found.ok:
        return error(INCORRECT_SERVICE)
    service = found.service
    request_fields = {"link": p.get("link", ""), "quantity": p.get("quantity", "")}
    try:
        order = order_place(user, kind="smm", service=service, source="api", **request_fields)
    except OrderInvalid as exc:
        return error(_refusal(exc, service))
    accepted(request)
    return json_reply({"success": True, "order": str(order.pk)})  # accepted; the worker sends it on


# What `add` answers for each reason the quote refuses, first match wins (the vendor's own texts).
_REFUSALS: dict[Problem, Callable[[Service], str]] = {
    Problem.NO_PRODUCT: lambda _s: INCORRECT_SERVICE,
    Problem.UNAVAILABLE: lambda _s: INCORRECT_SERVICE,
    Problem.NOT_FOR_SALE: lambda _s: INCORRECT_SERVICE,
    Problem.BAD_LINK: lambda _s: INCORRECT_LINK,
    Problem.NOT_A_NUMBER: lambda _s: INCORRECT_REQUEST,
    Problem.BELOW_MINIMUM: lambda service: f"Quantity less than minimal {service.min_qty}",
    Problem.ABOVE_MAXIMUM: lambda service: f"Quantity more than maximal {service.max_qty}",
    Problem.INSUFFICIENT_BALANCE: lambda _s: NO_FUNDS,
}


def _refusal(exc: OrderInvalid, service: Service) -> str:
    code = exc.first(*_REFUSALS)
    return _REFUSALS[code](service) if code else INCORRECT_REQUEST


def status_word(order: Order) -> str:
    status = Status(order.status)
    raw = (order.raw_status or "").strip().lower()
    for word in _UPSTREAM_WORDS.get(status, ()):
        if raw == word.lower():
            return word
    return STATUS_WORDS[status]


def _status_entry(order: Order) -> dict[str, str]:
    status = Status(order.status)
    remains = order.remains
    if remains is None:
        remains = 0 if status == Status.COMPLETED else order.quantity
    return {
        "charge": amount_text(order.charge),
        "start_count": str(order.start_count or 0),
        "status": status_word(order),
        "remains": str(remains),
        "currency": "IDR",
    }


def _status(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    if "orders" in p:
        ids = _ids(p["orders"])
        if ids is None:
            return error(INCORRECT_REQUEST)
        found = _orders(user, ids)
        refresh_if_stale(found.values())
        for order in found.values():
            order.refresh_from_db()
        return json_reply(
            {raw: _status_entry(found[raw]) if raw in found else {"error": INCORRECT_ORDER} for raw in ids}
        )
    order = own_order(user, p.get("order"), ProductKind.SMM)
    if order is None:
        return error(INCORRECT_ORDER if p.get("order", "").strip() else INCORRECT_REQUEST)
    refresh_if_stale([order])
    order.refresh_from_db()
    return json_reply(_status_entry(order))


def _balance(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    return json_reply({"balance": f"{balance_of(user):.2f}", "currency": "IDR"})


# --- the family's optional actions -------------------------------------------------------------------
def _refill_one(user: User, order: Order | None) -> str | dict[str, str]:
    """The refill id (this panel uses the order id: one refill at a time per order) or an error."""
    if order is None:
        return {"error": INCORRECT_ORDER}
    if not order.service.can_refill:
        return {"error": REFILL_UNAVAILABLE}
    if order.status not in (Status.COMPLETED, Status.PARTIAL):
        return {"error": NOT_COMPLETED}
    try:
        order_action(user, order, "refill")
    except (OrderActionError, Order.DoesNotExist):
        return {"error": REFILL_FAILED}
    return str(order.pk)


def _refill(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    if "orders" in p:
        ids = _ids(p["orders"])
        if ids is None:
            return error(INCORRECT_REQUEST)
        found = _orders(user, ids)
        return json_reply([{"order": _echo_id(raw), "refill": _refill_one(user, found.get(raw))} for raw in ids])
    if not p.get("order", "").strip():
        return error(INCORRECT_REQUEST)
    outcome = _refill_one(user, own_order(user, p.get("order"), ProductKind.SMM))
    return error(outcome["error"]) if isinstance(outcome, dict) else json_reply({"refill": outcome})


def _refill_status_one(order: Order | None) -> str | dict[str, str]:
    if order is None or not order.refill_id:
        return {"error": INCORRECT_REFILL}
    try:
        result = provider_adapter(order.provider).refill_status(order.refill_id)
    except ProviderNotSupported:
        return {"error": REFILL_STATUS_UNAVAILABLE}
    except ProviderError:
        return {"error": REFILL_STATUS_UNAVAILABLE}
    return result.status or "Pending"


def _refill_status(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    if "refills" in p:
        ids = _ids(p["refills"])
        if ids is None:
            return error(INCORRECT_REQUEST)
        found = _orders(user, ids)
        return json_reply([{"refill": _echo_id(raw), "status": _refill_status_one(found.get(raw))} for raw in ids])
    if not p.get("refill", "").strip():
        return error(INCORRECT_REQUEST)
    outcome = _refill_status_one(own_order(user, p.get("refill"), ProductKind.SMM))
    return error(outcome["error"]) if isinstance(outcome, dict) else json_reply({"status": outcome})


def _cancel_one(user: User, order: Order | None) -> int | dict[str, str]:
    if order is None:
        return {"error": INCORRECT_ORDER}
    if not order.service.can_cancel:
        return {"error": CANCEL_UNAVAILABLE}
    if order.status not in (Status.PENDING, Status.PROCESSING):
        return {"error": CANNOT_CANCEL}
    try:
        order_action(user, order, "cancel")
    except (OrderActionError, Order.DoesNotExist):
        return {"error": CANNOT_CANCEL}
    return 1


def _cancel(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    ids = _ids(p.get("orders") or p.get("order") or "")
    if ids is None:
        return error(INCORRECT_REQUEST)
    found = _orders(user, ids)
    return json_reply([{"order": _echo_id(raw), "cancel": _cancel_one(user, found.get(raw))} for raw in ids])


Handler = Callable[[HttpRequest, User, dict[str, str]], HttpResponse]
ACTIONS: dict[str, Handler] = {
    "services": _services,
    "add": _add,
    "status": _status,
    "balance": _balance,
    "refill": _refill,
    "refill_status": _refill_status,
    "cancel": _cancel,
}


@api_endpoint(fail)
def endpoint(request: HttpRequest) -> HttpResponse:
    p: dict[str, Any] = form_params(request, fail)
    user = authenticate(request, p.get("key") or bearer_token(request), fail)
    handler = ACTIONS.get(p.get("action", "").strip())
    if handler is None:
        return fail(Reason.MALFORMED)
    return handler(request, user, p)


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return error(INCORRECT_REQUEST, status=404)
