"""SMS masking HTTP gateway-compatible API (provider-docs 003), under `/api/masking/` with the gateway's own
file names, so a client written for the gateway switches by its base URL alone:

- `send.php` (GET) and `send_post.php` (POST): `username`, `password`, `hp`, `message`. One SMS order of the
  panel's `masking` SMS type to one number, at the reseller's tier price per SMS, billed per 160 characters
  as the document says (161 characters are 2 SMS, whatever the alphabet). All or nothing: a refusal charges
  nothing. The reply is the bare report id (the panel's recipient id, as RajaSMS's `sendingid`).
- `report.php?rpt=`: `22` delivered, `20` pending, `50, No Charge` not sent and not charged (refunded), `50`
  failed after sending (charged). Also needs `username` and `password`: a report id is only the caller's.
- `balance.php`: `<balance>,<expiry>` as public clients of the gateway read it; the panel's balance does
  not expire, so the expiry is far away.
- `reports_post.php` (`start`, `end` as dd-mm-yyyy, WIB, both days included): the caller's SMS as CSV.
- `inbox.php`: the panel has no incoming SMS for resellers; always the empty list (the header row).

`username` is the reseller's username and `password` their API key: the key is checked as on every other
protocol (hashed lookup, constant-time, per-key rate limit, failures counted per address), then the
username in constant time. Every method reads the query string and the form alike (PHP's $_REQUEST; public
clients POST to send.php too). Replies are plain text with HTTP 200, as the gateway's PHP prints them;
limits and internal failures keep their 429/413/405/503. The document names no error texts: the panel uses
the ones its sandbox simulates (docs/provider-notes.md).

Delivery reports go to the URL the reseller saves on their API page (the gateway's per-user "Callable API
DLR"), as a GET in the document's shape, by orders.forwarding.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiKey, User
from accounts.selectors import balance_of
from orders import quotes
from orders.models import Order, OrderRecipient
from orders.placement import orders_place
from orders.quotes import WIB, OrderInvalid, Problem, storable
from orders.reports.csv import csv_response, escape_text
from orders.sms import MAX_MESSAGE_CHARS, count_per_160, normalize_number
from providers.adapters.types import DeliveryState, ProductKind

from .catalogue import refresh_if_stale, self_pointing_ids
from .common import HTTP_STATUS, Reason, amount_text, api_endpoint, authenticate, digits_id, form_params
from .idempotency import accepted, idempotent_call
from .masking_codes import DLR_TEXTS, FAILED, NO_CHARGE, PENDING, delivery_code

PROTOCOL = "masking"  # Order.client_protocol of sends through this API (orders.forwarding's shape)
SMS_TYPE = "masking"  # the panel's SMS route type these sends use (orders.quotes.sms_routes)
METHODS = ("GET", "POST")
BALANCE_EXPIRES = "2099/12/31-23:59:59"  # the panel's balance does not expire
MAX_REPORT_DAYS = 92  # reports_post.php: at most about three months per download
DATE_FORMAT = "%d-%m-%Y"

# Replies. The document lists none for failures; these are the sandbox's (providers/sandbox, the same texts
# the panel's own adapter meets upstream), plus the panel's own for its limits.
BAD_LOGIN = "Username atau Password salah"
BAD_NUMBER = "Nomor tujuan tidak valid"
EMPTY_MESSAGE = "Pesan tidak boleh kosong"
BAD_MESSAGE = f"Pesan tidak valid (maksimal {MAX_MESSAGE_CHARS} karakter)"
NO_BALANCE = "Saldo tidak cukup"
UNAVAILABLE = "Layanan tidak tersedia"
NOT_FOUND = "Data tidak ditemukan"
REPORT_REASON_NO_CHARGE = "No Charge"  # report.php: "50, No Charge"
BAD_DATES = "Format tanggal salah"
RANGE_TOO_LONG = f"Rentang tanggal maksimal {MAX_REPORT_DAYS} hari"

_FAILURES = {
    Reason.AUTH: BAD_LOGIN,
    Reason.RATE_LIMITED: "Terlalu banyak permintaan, coba lagi sebentar lagi",
    Reason.TOO_LARGE: "Data terlalu besar",
    Reason.METHOD: "Metode tidak didukung",
    Reason.MALFORMED: "Permintaan tidak sesuai",
    Reason.INTERNAL: "Sistem sedang gangguan, coba lagi",
    Reason.IP_NOT_ALLOWED: "IP tidak terdaftar",
    Reason.KEY_INVALID: "Idempotency-Key tidak sesuai",
    Reason.KEY_REUSED: "Idempotency-Key sudah dipakai untuk permintaan lain",
    Reason.KEY_IN_FLIGHT: "Permintaan dengan Idempotency-Key ini masih diproses",
}


def text_reply(text: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"  # per user, and GET clients put the key in the URL
    return response


def fail(reason: Reason) -> HttpResponse:
    return text_reply(_FAILURES[reason], status=HTTP_STATUS[reason])


def _user(request: HttpRequest, p: dict[str, str]) -> User:
    """The reseller whose API key is `password` and whose username is `username` (both or nothing)."""
    username = p.get("username", "").strip()

    def same_username(user: User, _key: str) -> bool:
        given = username.encode("utf-8", "surrogatepass")  # any text compares, none raises
        return bool(username) and hmac.compare_digest(user.get_username().encode(), given)

    return authenticate(request, p.get("password", ""), fail, also=same_username)


# --- delivery state in the gateway's codes (orders.api.masking_codes) ----------------------------------
def report_text(recipient: OrderRecipient) -> str:
    """report.php's reply: 22, 20, or 50 with the reason when there is one of the document's ("No Charge")."""
    code = delivery_code(recipient)
    if code is None or code == PENDING:
        return PENDING  # queued in the panel: for the client it is pending like any unfinished SMS
    if code == NO_CHARGE:
        return f"{FAILED}, {REPORT_REASON_NO_CHARGE}"
    return code


# --- send -----------------------------------------------------------------------------------------------
_PROBLEMS = {
    Problem.INSUFFICIENT_BALANCE: NO_BALANCE,
    Problem.BAD_RECIPIENTS: BAD_NUMBER,
    Problem.BAD_MESSAGE: BAD_MESSAGE,
}


def _route_usable(request: HttpRequest) -> bool:
    """Some masking route is enabled and none points back at this panel (the loop guard)."""
    routes = quotes.sms_routes(SMS_TYPE)
    looped = self_pointing_ids(request)
    return bool(routes) and not any(route.provider_id in looped for route in routes)


def _callback_url(user: User) -> str:
    return ApiKey.objects.filter(user=user).values_list("masking_callback_url", flat=True).first() or ""


def _send(request: HttpRequest) -> HttpResponse:
    p = form_params(request, fail)
    user = _user(request, p)
    raw_number = p.get("hp", "")
    number = normalize_number(raw_number) if storable(raw_number) and len(raw_number) <= 30 else None
    if number is None:
        return text_reply(BAD_NUMBER)
    message = p.get("message", "").replace("\r\n", "\n")
    if not message.strip():
        return text_reply(EMPTY_MESSAGE)
    if len(message) > MAX_MESSAGE_CHARS or not storable(message):
        return text_reply(BAD_MESSAGE)
    if not _route_usable(request):
        return text_reply(UNAVAILABLE)
    order_request = {
        "kind": ProductKind.SMS,
        "sms_type": SMS_TYPE,
        "message": message,
        "recipients": [number],
        "counter": count_per_160,
    }

    def place() -> HttpResponse:
        try:
            (order,) = orders_place(
                user, [order_request], source="api", callback_url=_callback_url(user), client_protocol=PROTOCOL
            )
        except OrderInvalid as exc:
            problem = exc.first(*_PROBLEMS)
            return text_reply(_PROBLEMS[problem] if problem else UNAVAILABLE)
        accepted(request)
        return text_reply(str(order.recipients.get().pk))

    return idempotent_call(request, user, p, place, fail)


@api_endpoint(fail, methods=METHODS)
def send(request: HttpRequest) -> HttpResponse:
    return _send(request)


@api_endpoint(fail, methods=METHODS)
def send_post(request: HttpRequest) -> HttpResponse:
    return _send(request)


# --- report, balance ------------------------------------------------------------------------------------
def own_recipient(user: User, raw_id: object) -> OrderRecipient | None:
    """One SMS of the reseller's by its report id (any of their SMS: the same id as RajaSMS's sendingid);
    another reseller's does not exist for them."""
    pk = digits_id(raw_id)
    if pk is None:
        return None
    return (
        OrderRecipient.objects.select_related("order")
        .filter(pk=pk, order__user=user, order__kind=ProductKind.SMS)
        .first()
    )


@api_endpoint(fail, methods=METHODS)
def report(request: HttpRequest) -> HttpResponse:
    p = form_params(request, fail)
    user = _user(request, p)
    recipient = own_recipient(user, p.get("rpt"))
    if recipient is None:
        return text_reply(NOT_FOUND)
    if not DeliveryState(recipient.state).is_final:
        refresh_if_stale([recipient.order])  # a polling client sees progress between the worker's ticks
        recipient.refresh_from_db(fields=["state", "code", "text"])
    return text_reply(report_text(recipient))


@api_endpoint(fail, methods=METHODS)
def balance(request: HttpRequest) -> HttpResponse:
    user = _user(request, form_params(request, fail))
    return text_reply(f"{amount_text(balance_of(user))},{BALANCE_EXPIRES}")


# --- reports_post, inbox --------------------------------------------------------------------------------
REPORT_HEADER = ("id", "tanggal", "msisdn", "pesan", "jumlah_sms", "status", "keterangan")
INBOX_HEADER = ("id", "tanggal", "pengirim", "pesan")


def _day(raw: str) -> date | None:
    try:
        return datetime.strptime(raw.strip(), DATE_FORMAT).date()
    except ValueError:
        return None


def _report_rows(user: User, start: date, end: date) -> Iterator[list[object]]:
    since = datetime.combine(start, time.min, tzinfo=WIB)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=WIB)
    rows = (
        OrderRecipient.objects.filter(
            order__user=user, order__kind=ProductKind.SMS, order__created_at__gte=since, order__created_at__lt=until
        )
        .select_related("order")
        .only("pk", "number", "message", "segments", "state", "order__message", "order__segments", "order__created_at")
        .order_by("pk")
    )
    for row in rows.iterator(chunk_size=500):
        order: Order = row.order
        code = delivery_code(row) or PENDING
        sent = timezone.localtime(order.created_at, WIB).strftime(f"{DATE_FORMAT} %H:%M:%S")
        status = report_text(row).split(",", 1)[0]
        yield [
            row.pk,
            sent,
            row.number,
            escape_text(row.message or order.message),
            row.segments or order.segments,
            status,
            DLR_TEXTS[code],
        ]


@api_endpoint(fail, methods=METHODS)
def reports_post(request: HttpRequest) -> HttpResponse:
    p = form_params(request, fail)
    user = _user(request, p)
    start, end = _day(p.get("start", "")), _day(p.get("end", ""))
    if start is None or end is None or end < start:
        return text_reply(BAD_DATES)
    if (end - start).days >= MAX_REPORT_DAYS:
        return text_reply(RANGE_TOO_LONG)
    name = f"report_{start.strftime(DATE_FORMAT)}_{end.strftime(DATE_FORMAT)}.csv"
    return csv_response(name, REPORT_HEADER, _report_rows(user, start, end))


@api_endpoint(fail, methods=METHODS)
def inbox(request: HttpRequest) -> HttpResponse:
    """The panel receives no SMS for its resellers (no collocation modems): the gateway's empty inbox."""
    _user(request, form_params(request, fail))
    return csv_response("inbox.csv", INBOX_HEADER, [])


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return text_reply(NOT_FOUND, status=404)
