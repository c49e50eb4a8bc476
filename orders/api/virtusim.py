"""VirtuSIM-compatible `/api/json.php` (provider-docs 000): GET or POST with `api_key` and `action` =
services | order | set_status | active_order | status. Every reply is `{"status": true|false, "data": ...}`
with the vendor's Indonesian messages; ids are the panel's service and order ids."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from orders.models import Order
from orders.placement import order_place
from orders.quotes import OrderInvalid, Problem
from orders.services import OrderActionError, order_action
from providers.adapters.types import ProductKind, Status

from .catalogue import find_service, own_order, refresh_if_stale, sellable
from .common import HTTP_STATUS, Reason, amount_text, api_endpoint, authenticate, form_params, json_reply
from .idempotency import accepted, idempotent

BAD_KEY = "API Key salah"
BAD_REQUEST = "Permintaan tidak sesuai"
NO_BALANCE = "Saldo tidak cukup"
NO_SERVICE = "Layanan tidak ditemukan"
UNAVAILABLE = "Layanan tidak tersedia"
NOT_FOUND = "Pesanan tidak ditemukan"
RATE_LIMITED = "Terlalu banyak permintaan, coba lagi sebentar lagi"
INTERNAL = "Terjadi kesalahan sistem, coba lagi"
WAITING = "Waiting SMS Code"
UNKNOWN_STOCK = 100  # `tersedia` for a service whose upstream does not count its numbers

# Panel status -> the words of `status&id=`: only the four the document lists (Pending, Processing, Error,
# Success). An order that ended without a code (canceled, expired, failed; refunded in full) is `Error`;
# one that ended after its code arrived was used, so it is `Success` (see `_status_word`).
STATUS_WORDS = {
    Status.SUBMITTING: "Pending",
    Status.UNKNOWN: "Pending",
    Status.PENDING: "Pending",
    Status.PROCESSING: "Processing",
    Status.COMPLETED: "Success",
    Status.PARTIAL: "Success",
    Status.CANCELED: "Error",
    Status.FAILED: "Error",
}
# set_status code -> (order action, success text, failure text). Every code goes upstream (orders.services
# order_action), 1 (Ready) too: the upstream decides, in the request, as it does for the others.
SET_STATUS = {
    "1": ("ready", "Berhasil menunggu sms masuk", "Gagal Ready"),
    "2": ("cancel", "Berhasil membatalkan pesanan", "Gagal Cancel"),
    "3": ("resend", "Berhasil meminta kirim ulang sms", "Gagal Resend"),
    "4": ("done", "Berhasil menyelesaikan pesanan", "Gagal Selesai"),
}

_MESSAGES = {
    Reason.AUTH: BAD_KEY,
    Reason.RATE_LIMITED: RATE_LIMITED,
    Reason.TOO_LARGE: BAD_REQUEST,
    Reason.METHOD: BAD_REQUEST,
    Reason.MALFORMED: BAD_REQUEST,
    Reason.INTERNAL: INTERNAL,
    Reason.IP_NOT_ALLOWED: "IP tidak terdaftar",
    Reason.KEY_INVALID: "Idempotency-Key tidak sesuai",
    Reason.KEY_REUSED: "Idempotency-Key sudah dipakai untuk permintaan lain",
    Reason.KEY_IN_FLIGHT: "Permintaan dengan Idempotency-Key ini masih diproses",
}


# What `order` answers for each reason the quote refuses, first match wins (the vendor's own texts).
_REFUSALS = {
    Problem.BAD_OPERATOR: BAD_REQUEST,
    Problem.INSUFFICIENT_BALANCE: NO_BALANCE,
    Problem.OUT_OF_STOCK: UNAVAILABLE,
    Problem.UNAVAILABLE: UNAVAILABLE,
    Problem.NOT_FOR_SALE: UNAVAILABLE,
    Problem.NO_PRODUCT: UNAVAILABLE,
    Problem.PROVIDER_BUSY: UNAVAILABLE,
}


def _failure(message: str, status: int = 200) -> HttpResponse:
    return json_reply({"status": False, "data": {"msg": message}}, status=status)


def fail(reason: Reason) -> HttpResponse:
    return _failure(_MESSAGES[reason], HTTP_STATUS[reason])


def _sms(order: Order) -> str:
    return order.otp_sms or order.otp_code


def _status_word(order: Order) -> str:
    status = Status(order.status)
    if status in (Status.CANCELED, Status.FAILED) and order.otp_code:
        return "Success"  # the code arrived: the number was used (and is not refunded)
    return STATUS_WORDS[status]


def _order_data(order: Order) -> dict[str, str]:
    return {"id": str(order.pk), "number": order.target, "service_name": order.service.name}


# --- actions ----------------------------------------------------------------------------------------
def _services(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    data = []
    for row in sellable(user, ProductKind.OTP, request):
        service = row.service
        stock = service.stock if service.stock is not None else UNKNOWN_STOCK
        data.append(
            {
                "id": str(service.pk),
                "name": service.name,
                "price": amount_text(row.price),
                "tersedia": str(max(stock, 0) if service.in_stock else 0),
                "category": service.category or "OTP",
            }
        )
    return json_reply({"status": True, "data": data})


@idempotent(fail)
def _order(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    operator = (p.get("operator") or "any").strip().lower()
    if not p.get("service", "").strip():
        return _failure(BAD_REQUEST)
    found = find_service(user, ProductKind.OTP, p["service"], request)
    if found.problem == "missing":
        return _failure(NO_SERVICE)
    if not found.ok:
        return _failure(UNAVAILABLE)
    try:
        order = order_place(user, kind="otp", service=found.service, operator=operator, source="api")
    except OrderInvalid as exc:
        code = exc.first(*_REFUSALS)
        return _failure(_REFUSALS[code] if code else BAD_REQUEST)
    if order.status == Status.FAILED:  # the upstream refused: nothing happened, the charge is back
        return _failure(UNAVAILABLE)
    accepted(request)
    data = {**_order_data(order), "operator": order.operator, "service_id": str(found.service.pk)}
    return json_reply({"status": True, "data": data})


def _set_status(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    code = p.get("status", "").strip()
    if code not in SET_STATUS or not p.get("id", "").strip():
        return _failure(BAD_REQUEST)
    order = own_order(user, p["id"], ProductKind.OTP)
    if order is None:
        return json_reply({"status": False, "msg": NOT_FOUND, "data": {"msg": NOT_FOUND}})
    action, done_text, failed_text = SET_STATUS[code]
    refresh_if_stale([order])  # a code that just arrived decides whether cancel / resend / done apply
    order.refresh_from_db()
    try:
        ok = order_action(user, order, action).ok
    except (OrderActionError, Order.DoesNotExist):
        ok = False
    order.refresh_from_db()
    return json_reply({"status": ok, "msg": done_text if ok else failed_text, "data": _order_data(order)})


def _active_order(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    def active():
        return list(
            Order.objects.filter(user=user, kind=ProductKind.OTP, status__in=[Status.PENDING, Status.PROCESSING])
            .select_related("service", "provider")
            .order_by("pk")
        )

    orders = active()
    refresh_if_stale(orders)
    data = []
    for order in active():
        sms = _sms(order)
        data.append(
            {
                "id": str(order.pk),
                "status": "Otp Diterima" if order.otp_code else "Ready",
                "number": order.target,
                "otp": sms or WAITING,
                "sms": sms,
                "service_name": order.service.name,
            }
        )
    return json_reply({"status": True, "data": data})


def _status(request: HttpRequest, user: User, p: dict[str, str]) -> HttpResponse:
    order = own_order(user, p.get("id"), ProductKind.OTP)
    if order is None:
        return _failure(NOT_FOUND)
    refresh_if_stale([order])
    order.refresh_from_db()
    data = {**_order_data(order), "status": _status_word(order), "sms": _sms(order)}
    return json_reply({"status": True, "data": {k: data[k] for k in ("id", "status", "number", "sms", "service_name")}})


Handler = Callable[[HttpRequest, User, dict[str, str]], HttpResponse]
ACTIONS: dict[str, Handler] = {
    "services": _services,
    "order": _order,
    "set_status": _set_status,
    "active_order": _active_order,
    "status": _status,
}


@api_endpoint(fail, methods=("GET", "POST"))
def endpoint(request: HttpRequest) -> HttpResponse:
    p = form_params(request, fail)
    user = authenticate(request, p.get("api_key"), fail)
    handler = ACTIONS.get(p.get("action", "").strip())
    if handler is None:
        return fail(Reason.MALFORMED)
    return handler(request, user, p)


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    """Any other path under /api/: VirtuSIM's form, the one API whose paths end in `.php` like most clients'."""
    return _failure(BAD_REQUEST, status=404)
