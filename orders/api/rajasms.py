"""RajaSMS-compatible JSON API (provider-docs 002 with the corrected shapes of provider-docs/README.md):
`POST /sms/api_sms_{reguler,masking,otp}_send_json.php` and `POST /sms/api_sms_{...}_balance_json.php`.

A send becomes one SMS order per distinct `sendingdatetime` in the request (each packet keeps its own
text), of the SMS type named by the path, at the reseller's price. It is all or nothing: a request with
any invalid packet places nothing (globalstatus 20, each bad packet with its own code, the others 90
"Not sent"), and the orders of a valid one are charged in one transaction. The reply goes out at once;
the worker sends the packets to the gateway. Each packet is answered in request order; `sendingid` is the
panel's recipient id, the one the delivery callbacks (sent to the request's `callbackurl` by
orders.forwarding) carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from accounts.selectors import balance_of
from orders import quotes
from orders.placement import orders_place
from orders.quotes import MAX_SCHEDULE_AHEAD, WIB, OrderInvalid, Problem, storable
from orders.sms import MAX_MESSAGE_CHARS, normalize_number

from .catalogue import self_pointing_ids
from .common import HTTP_STATUS, Reason, Refusal, amount_number, api_endpoint, authenticate, json_reply
from .idempotency import accepted, idempotent_call

MAX_PACKETS = 1000
BALANCE_EXPIRES = "2099-12-31"  # the panel's balance does not expire
SCHEDULE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H-%M-%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H-%M")

# sendingstatus codes of the document
SUCCESS = (10, "success")
INVALID_NUMBER = (60, "Invalid Number")
INVALID_MESSAGE = (70, "Invalid Message")
MINIMUM_BALANCE = (80, "Minimum Balance")
SYSTEM_ERROR = (90, "System Error")
DUPLICATE = (90, "Duplicate message")
BAD_SCHEDULE = (90, "Invalid sendingdatetime")
NOT_SENT = (90, "Not sent: the request has invalid packets")

_SEND_FAILURES = {
    Reason.AUTH: (30, "ApiKey not register"),
    Reason.RATE_LIMITED: (35, "Request Limit"),
    Reason.TOO_LARGE: (55, "Maximum Data"),
    Reason.METHOD: (20, "Json Post Error"),
    Reason.MALFORMED: (20, "Json Post Error"),
    Reason.INTERNAL: (90, "System Error"),
    Reason.IP_NOT_ALLOWED: (40, "Ip address not register"),
    Reason.KEY_INVALID: (20, "Json Post Error: invalid Idempotency-Key or clientref"),
    Reason.KEY_REUSED: (20, "Json Post Error: Idempotency-Key or clientref already used for another request"),
    Reason.KEY_IN_FLIGHT: (20, "Json Post Error: a request with this Idempotency-Key or clientref is in process"),
}
_BALANCE_FAILURES = {
    Reason.AUTH: (30, "ApiKey not register"),
    Reason.RATE_LIMITED: (35, "Check Balance Limit"),
    Reason.TOO_LARGE: (20, "Json Post Error"),
    Reason.METHOD: (20, "Json Post Error"),
    Reason.MALFORMED: (20, "Json Post Error"),
    Reason.INTERNAL: (25, "Error Check Balance"),
    Reason.IP_NOT_ALLOWED: (40, "Ip address not register"),
}
CLIENT_REF = "clientref"  # the panel's optional request reference on a send: acts as an Idempotency-Key


def _global(key: str, code: int, text: str, status: int = 200) -> HttpResponse:
    return json_reply({key: [{"globalstatus": code, "globalstatustext": text}]}, status=status)


def send_fail(reason: Reason) -> HttpResponse:
    return _global("sending_respon", *_SEND_FAILURES[reason], status=HTTP_STATUS[reason])


def balance_fail(reason: Reason) -> HttpResponse:
    return _global("balance_respon", *_BALANCE_FAILURES[reason], status=HTTP_STATUS[reason])


def _json_body(request: HttpRequest, fail) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: arrays nested 100,000 deep
        raise Refusal(fail(Reason.MALFORMED)) from None
    if not isinstance(data, dict):
        raise Refusal(fail(Reason.MALFORMED))
    return data


def _user(request: HttpRequest, body: Mapping[str, Any], fail) -> User:
    key = body.get("apikey")
    if key is not None and not isinstance(key, str):
        raise Refusal(fail(Reason.MALFORMED))
    return authenticate(request, key or "", fail)


def _callback_url(value: object) -> str | None:
    """The request's callbackurl ("" = none); None when it is not an absolute http(s) URL."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500 or not storable(url):
        return None
    return url


def _schedule(value: object, now: datetime) -> datetime | bool | None:
    """`sendingdatetime` (WIB): None = send now (empty, unreadable or past, as the gateway reads it);
    False = too far ahead to accept."""
    if not isinstance(value, str) or not value.strip():
        return None
    for pattern in SCHEDULE_FORMATS:
        try:
            when = datetime.strptime(value.strip(), pattern).replace(tzinfo=WIB)
        except ValueError:
            continue
        if when <= now:
            return None
        return when if when <= now + MAX_SCHEDULE_AHEAD else False
    return None


def _packet(number: str, sending_id: int, status: tuple[int, str], price: Any = 0) -> dict[str, Any]:
    code, text = status
    return {
        "packet": {
            "number": number,
            "sendingid": sending_id,
            "sendingstatus": code,
            "sendingstatustext": text,
            "price": price,
        }
    }


@dataclass
class _Group:
    """Packets that become one order: the same schedule (each packet keeps its own text)."""

    schedule: datetime | None
    slots: list[tuple[int, str, str]] = field(default_factory=list)  # (packet index, number, text)


def _refuse_all(groups: Iterable[_Group], replies: list, status: tuple[int, str]) -> None:
    for group in groups:
        for index, number, _text in group.slots:
            replies[index] = _packet(number, 0, status)


# The packet status for each reason the quote refuses, first match wins (the vendor's own codes).
_REFUSALS = {
    Problem.INSUFFICIENT_BALANCE: MINIMUM_BALANCE,
    Problem.BAD_MESSAGE: INVALID_MESSAGE,
    Problem.BAD_RECIPIENTS: INVALID_NUMBER,
    Problem.BAD_SCHEDULE: BAD_SCHEDULE,
}


def _status_for(exc: OrderInvalid) -> tuple[int, str]:
    code = exc.first(*_REFUSALS)
    return _REFUSALS[code] if code else SYSTEM_ERROR


def _place(user: User, route: str, groups: list[_Group], callback: str, replies: list) -> bool:
    """Accept every group as one order each, all in one transaction: charged together or not at all.
    True when they were accepted."""
    requests = [
        {
            "kind": "sms",
            "sms_type": route,
            "packets": [(number, text) for _index, number, text in group.slots],
            "schedule_at": group.schedule,
        }
        for group in groups
    ]
    try:
        orders = orders_place(user, requests, source="api", callback_url=callback)
    except OrderInvalid as exc:
        _refuse_all(groups, replies, _status_for(exc))
        return False
    for group, order in zip(groups, orders, strict=True):
        rows = list(order.recipients.order_by("pk"))
        for (index, number, _text), row in zip(group.slots, rows, strict=True):
            parts = row.segments or order.segments
            replies[index] = _packet(number, row.pk, SUCCESS, amount_number(order.unit_price * parts))
    return True


def _route_usable(request: HttpRequest, route: str) -> bool:
    """Some route of this SMS type is enabled and none points back at this panel (loop guard)."""
    routes = quotes.sms_routes(route)
    looped = self_pointing_ids(request)
    return bool(routes) and not any(r.provider_id in looped for r in routes)


@api_endpoint(send_fail)
def send(request: HttpRequest, route: str) -> HttpResponse:
    body = _json_body(request, send_fail)
    user = _user(request, body, send_fail)
    return idempotent_call(
        request,
        user,
        body,
        lambda: _send(request, route, user, body),
        send_fail,
        reference=body.get(CLIENT_REF),
        exclude=(CLIENT_REF,),
    )


def _send(request: HttpRequest, route: str, user: User, body: dict[str, Any]) -> HttpResponse:
    packets = body.get("datapacket")
    if not isinstance(packets, list) or not packets or not all(isinstance(p, dict) for p in packets):
        return send_fail(Reason.MALFORMED)
    if len(packets) > MAX_PACKETS:
        return _global("sending_respon", 55, "Maximum Data")
    callback = _callback_url(body.get("callbackurl"))
    if callback is None:
        return send_fail(Reason.MALFORMED)

    now = timezone.now()
    replies: list[dict[str, Any] | None] = [None] * len(packets)
    groups: dict[datetime | None, _Group] = {}
    seen: set[tuple[str, str, datetime | None]] = set()
    refused = False  # any invalid packet refuses the whole request: nothing is placed or charged
    for index, packet in enumerate(packets):
        raw_number = packet.get("number")
        if isinstance(raw_number, int) and not isinstance(raw_number, bool):
            raw_number = str(raw_number)
        number = normalize_number(raw_number) if isinstance(raw_number, str) and storable(raw_number) else None
        if number is None:
            replies[index] = _packet(raw_number if isinstance(raw_number, str) else "", 0, INVALID_NUMBER)
            refused = True
            continue
        message = packet.get("message")
        if (
            not isinstance(message, str)
            or not message.strip()
            or len(message) > MAX_MESSAGE_CHARS
            or not storable(message)
        ):
            replies[index] = _packet(number, 0, INVALID_MESSAGE)
            refused = True
            continue
        message = message.replace("\r\n", "\n")
        schedule = _schedule(packet.get("sendingdatetime"), now)
        if schedule is False:
            replies[index] = _packet(number, 0, BAD_SCHEDULE)
            refused = True
            continue
        if (number, message, schedule) in seen:
            replies[index] = _packet(number, 0, DUPLICATE)
            refused = True
            continue
        seen.add((number, message, schedule))
        groups.setdefault(schedule, _Group(schedule)).slots.append((index, number, message))

    if refused:
        _refuse_all(groups.values(), replies, NOT_SENT)
        return _global_reply(20, "Json Post Error", replies)
    if not _route_usable(request, route):
        _refuse_all(groups.values(), replies, SYSTEM_ERROR)
    elif _place(user, route, list(groups.values()), callback, replies):
        accepted(request)
    return _global_reply(10, "Success", replies)


def _global_reply(code: int, text: str, replies: list) -> HttpResponse:
    return json_reply({"sending_respon": [{"globalstatus": code, "globalstatustext": text, "datapacket": replies}]})


@api_endpoint(balance_fail)
def balance(request: HttpRequest, route: str) -> HttpResponse:
    body = _json_body(request, balance_fail)
    user = _user(request, body, balance_fail)
    return json_reply(
        {
            "balance_respon": [
                {
                    "globalstatus": 10,
                    "globalstatustext": "Success",
                    "Balance": amount_number(balance_of(user)),
                    "Expired": BALANCE_EXPIRES,
                }
            ]
        }
    )


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return _global("sending_respon", 20, "Json Post Error", status=404)
