"""Osimesa-compatible `POST /api/prepaid` (provider-docs 004): form `key`, `sign` = md5 of the reseller's
API user id (their panel user id, shown on the API page) followed by the key, and `type` = service |
order | status. Replies are `{"code", "status", "message", "data"}`; the HTTP status equals `code`.

`service` lists the reseller's products at their own price (`price.current`, what `order` charges) and, in
`price.list`, the price each of the levels standar / premium / spesial stands for: the price of the tier the
operator chose for that level (admin: Osimesa price levels), else the reseller's own. `multi` "0" products
refuse a second `order` for the same data_no while the first is not final (REPEAT_MESSAGE); `note`,
`updated_at` (when the vendor last changed the product) and `category.type` are the upstream's."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from orders.models import Order, PriceLevel, PriceLevelTier
from orders.placement import order_place
from orders.quotes import OrderInvalid, Problem
from providers.adapters.types import ProductKind, Status
from providers.models import Service, ServicePrice

from .catalogue import find_service, own_order, refresh_if_stale, sellable
from .common import Reason, amount_number, api_endpoint, ascii_int, authenticate, form_params, json_reply
from .idempotency import accepted, idempotent

MAX_LIMIT = 15
ORDER_THANKS = "Thank you for purchasing the product, please wait for the transaction to be processed."
REPEAT_MESSAGE = "Transaction with the same product and destination number is still being processed."
NOTES = {
    "waiting": "Transaction is being processed.",
    "processing": "Transaction is being processed.",
    "success": "Transaction success.",
    "failed": "Transaction failed, balance refunded.",
}
STATUS_WORDS = {
    Status.SUBMITTING: "waiting",
    Status.UNKNOWN: "waiting",
    Status.PENDING: "waiting",
    Status.PROCESSING: "processing",
    Status.COMPLETED: "success",
    Status.PARTIAL: "success",
    Status.CANCELED: "failed",
    Status.FAILED: "failed",
}
_FAILURES = {
    Reason.AUTH: (401, "Invalid API key or signature."),
    Reason.RATE_LIMITED: (429, "Too many requests, slow down."),
    Reason.TOO_LARGE: (413, "Request too large."),
    Reason.METHOD: (405, "Method not allowed, use POST."),
    Reason.MALFORMED: (400, "Invalid request."),
    Reason.INTERNAL: (503, "Service temporarily unavailable."),
    Reason.IP_NOT_ALLOWED: (403, "IP address is not allowed for this API key."),
    Reason.KEY_INVALID: (400, "Invalid Idempotency-Key or client_ref."),
    Reason.KEY_REUSED: (409, "This Idempotency-Key or client_ref was already used for a different order."),
    Reason.KEY_IN_FLIGHT: (409, "An order with this Idempotency-Key or client_ref is still being processed."),
}
CLIENT_REF = "client_ref"  # the panel's optional client reference on `order`: acts as an Idempotency-Key


# What `order` answers for each reason the quote refuses, first match wins (the vendor's own texts).
_REFUSALS: dict[Problem, Callable[[Service], str]] = {
    Problem.OUT_OF_STOCK: lambda _s: "Product is out of stock.",
    Problem.IN_CUTOFF: lambda s: f"Product is in cutoff time ({_clock(s.cutoff_start)} - {_clock(s.cutoff_end)} WIB).",
    Problem.UNAVAILABLE: lambda _s: "Product is out of stock.",
    Problem.NOT_FOR_SALE: lambda _s: "Product is out of stock.",
    Problem.NO_PRODUCT: lambda _s: "Product is out of stock.",
    Problem.BAD_TARGET: lambda _s: "Invalid destination number.",
    Problem.INSUFFICIENT_BALANCE: lambda _s: "Insufficient balance.",
    Problem.REPEAT_OPEN: lambda _s: REPEAT_MESSAGE,
}


def error(code: int, message: str) -> HttpResponse:
    return json_reply({"code": code, "status": False, "message": message, "data": None}, status=code)


def fail(reason: Reason) -> HttpResponse:
    code, message = _FAILURES[reason]
    return error(code, message)


def ok(data: Any, message: str = "Success.") -> HttpResponse:
    return json_reply({"code": 200, "data": data, "status": True, "message": message})


def sign(user: User, api_key: str) -> str:
    """md5(user id + API key): the vendor's signature scheme, shown to the reseller on the API page."""
    return hashlib.md5(f"{user.pk}{api_key}".encode(), usedforsecurity=False).hexdigest()


def _category(service: Service) -> dict[str, str]:
    raw = service.raw.get("category") if isinstance(service.raw, dict) else None
    if isinstance(raw, dict) and all(isinstance(raw.get(k, ""), str) for k in ("type", "main", "sub")):
        found = {k: raw.get(k, "") for k in ("type", "main", "sub")}
    else:
        parts = [part.strip() for part in service.category.split(" / ")] + ["", "", ""]
        found = {"type": parts[0], "main": parts[1], "sub": " / ".join(p for p in parts[2:] if p)}
    if service.product_type:
        found["type"] = service.product_type
    return found


def _level_prices(service_ids: list[int]) -> dict[str, dict[int, Any]]:
    """For each price level the operator gave a tier: that tier's on-sale price per service id."""
    tiers = dict(PriceLevelTier.objects.values_list("level", "tier_id"))
    wanted = {tier_id for tier_id in tiers.values()}
    by_tier: dict[int, dict[int, Any]] = {tier_id: {} for tier_id in wanted}
    if wanted and service_ids:
        rows = ServicePrice.objects.filter(tier_id__in=wanted, service_id__in=service_ids, on_sale=True).values_list(
            "tier_id", "service_id", "price", "service__cost"
        )
        for tier_id, service_id, price, cost in rows:
            if price > cost:  # the margin guard, as for the reseller's own price
                by_tier[tier_id][service_id] = price
    return {level: by_tier[tier_id] for level, tier_id in tiers.items()}


def _clock(value) -> str:
    return value.strftime("%H:%M") if value is not None else "00:00"


def _epoch(value) -> int:
    return int(value.timestamp()) if value is not None else 0


# --- types ------------------------------------------------------------------------------------------
def _services(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    rows = list(sellable(user, ProductKind.PREPAID, request))
    levels = _level_prices([row.service_id for row in rows])
    data = []
    for row in rows:
        service, price = row.service, amount_number(row.price)
        listed = {
            level: amount_number(levels[level][service.pk]) if service.pk in levels.get(level, {}) else price
            for level in PriceLevel.values
        }
        data.append(
            {
                "category": _category(service),
                "multi": "1" if service.multi else "0",
                "name": service.name,
                "note": service.description or "-",
                "code": str(service.pk),
                "price": {"list": listed, "current": price},
                "cutoff": {"start": _clock(service.cutoff_start), "end": _clock(service.cutoff_end)},
                "status": "ready" if service.in_stock else "empty",
                "updated_at": _epoch(service.upstream_updated_at or service.synced_at or service.created_at),
            }
        )
    return ok(data)


def _transaction(order: Order, with_times: bool = True) -> dict[str, Any]:
    word = STATUS_WORDS[Status(order.status)]
    item: dict[str, Any] = {
        "data": [order.target],
        "note": NOTES[word],
        "price": amount_number(order.charge),
        "ref_id": str(order.pk),
        "status": word,
        "product": {
            "code": str(order.service_id),
            "type": _category(order.service)["type"],
            "service": order.service.name,
        },
        "voucher": order.voucher if word == "success" else "",
    }
    if with_times:
        item["created_at"] = _epoch(order.created_at)
        item["updated_at"] = _epoch(order.updated_at)
    return item


@idempotent(fail, reference=CLIENT_REF)
def _order(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    code, data_no = p.get("service", "").strip(), p.get("data_no", "").strip()
    if not code or not data_no:
        return error(400, "The service and data_no parameters are required.")
    found = find_service(user, ProductKind.PREPAID, code, request)
    if not found.ok:
        return error(400, "Product not found.")
    service = found.service
    try:
        order = order_place(user, kind="prepaid", service=service, target=data_no, source="api")
    except OrderInvalid as exc:
        code = exc.first(*_REFUSALS)
        return error(400, _REFUSALS[code](service) if code else "Invalid request.")
    accepted(request)
    return ok(  # accepted: `waiting` until the worker has handed it to the provider
        _transaction(order, with_times=False), ORDER_THANKS
    )


def _status(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    limit = ascii_int(p.get("limit", "").strip() or str(MAX_LIMIT))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        return error(400, f"The limit must be between 1 and {MAX_LIMIT}.")
    ref_id = p.get("ref_id", "").strip()
    if ref_id:
        order = own_order(user, ref_id, ProductKind.PREPAID)
        if order is None:
            return error(404, "Transaction not found.")
        orders = [order]
    else:
        orders = list(
            Order.objects.filter(user=user, kind=ProductKind.PREPAID)
            .select_related("service", "provider")
            .order_by("-pk")[:limit]
        )
    refresh_if_stale(orders)
    for order in orders:
        order.refresh_from_db()
    return ok([_transaction(order) for order in orders])


def _signed(p: dict[str, str]) -> Callable[[User, str], bool]:
    def check(user: User, key: str) -> bool:
        given = p.get("sign", "").strip().lower()
        return hmac.compare_digest(given.encode(), sign(user, key).encode())

    return check


Handler = Callable[[HttpRequest, User, dict[str, str]], HttpResponse]
TYPES: dict[str, Handler] = {"service": _services, "order": _order, "status": _status}


@api_endpoint(fail)
def endpoint(request: HttpRequest) -> HttpResponse:
    p = form_params(request, fail)
    user = authenticate(request, p.get("key"), fail, also=_signed(p))
    handler = TYPES.get(p.get("type", "").strip())
    if handler is None:
        return error(400, "Invalid type.")
    return handler(request, user, p)


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return error(404, "Not found.")
