"""RajaSMS JSON API (provider-docs 002, with the corrected shapes of provider-docs/README.md):
`/sms/api_sms_{reguler,masking,otp}_send_json.php` and `..._balance_json.php`.

Every documented code can be produced on purpose (deterministic, no background process):

globalstatus (the whole request)
  10 Success, 20 Json Post Error (body not a JSON object, no datapacket list), 30 ApiKey not register,
  55 Maximum Data (more than 1,000 packets): from the request.
  40 Ip address not register: the account's `allowed_ips` is set and the caller's address is not in it
     (send and balance).
  50 Expired Balance: the account's balance expiry (`balance_expires_on`, else a year after it was
     created) is before today (WIB); sends only: the balance call still answers, with the past `Expired`.

sendingstatus (per packet, in request order)
  10 success; 60 Invalid Number (not an Indonesian mobile number); 70 Invalid Message (empty or more than
  480 characters); 80 Minimum Balance (the account cannot pay for the packet); 90 System Error: the number
  ends in 9990. Only 10 is charged.

deliverystatus (the report POSTed to `callbackurl` after `dlr_delay_seconds`, or after sendingdatetime)
  a number ending in 99NN with NN from 01 to 10 reports code NN (1 Schedule, 2 Sent, 3 Delivered Success,
  4 Delivered Error, 5 System Failed, 6 Saldo Minus/Expired, 7 Reject, 8 System Error, 9 Duplicate
  message, 10 Delivered Success Backup); otherwise a number ending in 4 reports 4, any other 3.
  6, 7 and 9 were never sent, so the gateway gives the packet's price back (REFUNDED_CODES).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.utils import timezone

from .. import dlr
from ..common import WIB, account_by_key, json_reply, normalize_msisdn, number, sandbox_endpoint, sms_segments
from ..faults import Scope, with_fault
from ..models import DlrState, SandboxAccount, SandboxOrder
from ..services import place_order, settle
from . import DeliveryReport, SandboxProtocol, register

KIND = "rajasms"
ROUTE_PRICE = {"reguler": Decimal(70), "masking": Decimal(150), "otp": Decimal(250)}
MAX_PACKETS = 1000
MAX_MESSAGE = 480
BALANCE_VALID_DAYS = 365
SYSTEM_ERROR_SUFFIX = "9990"  # sendingstatus 90
REFUNDED_CODES = frozenset({6, 7, 9})  # deliverystatus codes of packets that never left the gateway


def _global(key: str, code: int, text: str) -> HttpResponse:
    return json_reply({key: [{"globalstatus": code, "globalstatustext": text}]})


def _body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = json.loads(request.body or b"")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _packet(number_: str, sending_id: int, code: int, text: str, price: Decimal) -> dict[str, Any]:
    return {
        "packet": {
            "number": number_,
            "sendingid": sending_id,
            "sendingstatus": code,
            "sendingstatustext": text,
            "price": number(price),
        }
    }


def _send_one(
    account: SandboxAccount, route: str, packet: dict[str, Any], callback: str, now: datetime
) -> dict[str, Any]:
    raw_number = str(packet.get("number") or "")
    msisdn = normalize_msisdn(raw_number)
    if msisdn is None:
        return _packet(raw_number, 0, 60, "Invalid Number", Decimal(0))
    message = str(packet.get("message") or "")
    if not message.strip() or len(message) > MAX_MESSAGE:
        return _packet(msisdn, 0, 70, "Invalid Message", Decimal(0))
    if msisdn.endswith(SYSTEM_ERROR_SUFFIX):
        return _packet(msisdn, 0, 90, "System Error", Decimal(0))
    price = ROUTE_PRICE[route] * sms_segments(message)
    scheduled = parse_sending_datetime(str(packet.get("sendingdatetime") or ""))
    dlr_at = max(now, scheduled or now) + timedelta(seconds=account.dlr_delay_seconds)
    outcome = rajasms_outcome(msisdn)
    order = place_order(
        account,
        price,
        created_at=now,
        route=route,
        service_id=route,
        service_name=f"SMS {route}",
        target=msisdn,
        message=message,
        outcome=str(outcome),
        refund=price if outcome in REFUNDED_CODES else Decimal(0),
        final_at=dlr_at,
        dlr_at=dlr_at,
        callback_url=callback,
        dlr_state=DlrState.PENDING if callback else DlrState.NONE,
    )
    if order is None:
        return _packet(msisdn, 0, 80, "Minimum Balance", Decimal(0))
    if callback:
        dlr.schedule(order.pk, dlr_at)
    return _packet(msisdn, int(order.external_id), 10, "success", price)


@sandbox_endpoint
def send(request: HttpRequest, route: str) -> HttpResponse:
    body = _body(request)
    if body is None:
        return _global("sending_respon", 20, "Json Post Error")
    account = account_by_key(KIND, str(body.get("apikey") or ""))
    if account is None:
        return _global("sending_respon", 30, "ApiKey not register")
    if not ip_allowed(account, request):
        return _global("sending_respon", 40, "Ip address not register")
    now = timezone.now()
    settle(account, now)
    dlr.sweep(account, now)
    if balance_expired(account, now):
        return _global("sending_respon", 50, "Expired Balance")
    packets = body.get("datapacket")
    if not isinstance(packets, list) or not packets or not all(isinstance(p, dict) for p in packets):
        return _global("sending_respon", 20, "Json Post Error")
    if len(packets) > MAX_PACKETS:
        return _global("sending_respon", 55, "Maximum Data")
    callback = str(body.get("callbackurl") or "").strip()

    def perform() -> HttpResponse:
        with transaction.atomic():  # one commit for the batch; DLR timers are armed after it
            results = [_send_one(account, route, packet, callback, now) for packet in packets]
        return json_reply(
            {"sending_respon": [{"globalstatus": 10, "globalstatustext": "Success", "datapacket": results}]}
        )

    return with_fault(account, Scope.ORDER, perform)


@sandbox_endpoint
def balance(request: HttpRequest, route: str) -> HttpResponse:
    body = _body(request)
    if body is None:
        return _global("balance_respon", 20, "Json Post Error")
    account = account_by_key(KIND, str(body.get("apikey") or ""))
    if account is None:
        return _global("balance_respon", 30, "ApiKey not register")
    if not ip_allowed(account, request):
        return _global("balance_respon", 40, "Ip address not register")
    now = timezone.now()
    settle(account, now)
    dlr.sweep(account, now)
    expires = balance_expires_on(account)

    def perform() -> HttpResponse:
        return json_reply(
            {
                "balance_respon": [
                    {
                        "globalstatus": 10,
                        "globalstatustext": "Success",
                        "Balance": number(account.balance),
                        "Expired": expires.strftime("%Y-%m-%d"),
                    }
                ]
            }
        )

    return with_fault(account, Scope.OTHER, perform)


# --- catalogue and rules ------------------------------------------------------------


RAJASMS_DELIVERY_TEXT = {
    1: "Schedule",
    2: "Sent",
    3: "Delivered Success",
    4: "Delivered Error",
    5: "System Failed",
    6: "Saldo Minus/Expired",
    7: "Reject",
    8: "System Error",
    9: "Duplicate message",
    10: "Delivered Success Backup",
}


def rajasms_outcome(number: str) -> int:
    """The deliverystatus a packet to `number` will report (the module docstring's table)."""
    tail = number[-4:]
    if len(tail) == 4 and tail.startswith("99") and tail[2:].isdigit() and 1 <= int(tail[2:]) <= 10:
        return int(tail[2:])
    return 4 if number.endswith("4") else 3


def ip_allowed(account: SandboxAccount, request: HttpRequest) -> bool:
    allowed = {ip.strip() for ip in account.allowed_ips.split(",") if ip.strip()}
    return not allowed or request.META.get("REMOTE_ADDR", "") in allowed


def balance_expires_on(account: SandboxAccount) -> date:
    if account.balance_expires_on is not None:
        return account.balance_expires_on
    return (timezone.localtime(account.created_at, WIB) + timedelta(days=BALANCE_VALID_DAYS)).date()


def balance_expired(account: SandboxAccount, now: datetime) -> bool:
    return balance_expires_on(account) < timezone.localtime(now, WIB).date()


def parse_sending_datetime(raw: str) -> datetime | None:
    """RajaSMS `sendingdatetime`: "yyyy-mm-dd hh-mm-ss" (as documented) or with colons, WIB."""
    raw = (raw or "").strip()
    for fmt in ("%Y-%m-%d %H-%M-%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=WIB)
        except ValueError:
            continue
    return None


def delivery_report(order: SandboxOrder) -> DeliveryReport:
    """POSTed as JSON to the `callbackurl` the send carried."""
    code = int(order.outcome)
    payload = {
        "sendingid": int(order.external_id),
        "number": order.target,
        "deliverystatus": code,
        "deliverystatustext": RAJASMS_DELIVERY_TEXT[code],
    }
    return DeliveryReport("POST", payload)


_ROUTE = r"(?P<route>reguler|masking|otp)"

PROTOCOL = register(
    SandboxProtocol(
        kind=KIND,
        title="RajaSMS (JSON)",
        base_path="rajasms",
        urls=[
            re_path(rf"^rajasms/sms/api_sms_{_ROUTE}_send_json\.php$", send, name="rajasms_send"),
            re_path(rf"^rajasms/sms/api_sms_{_ROUTE}_balance_json\.php$", balance, name="rajasms_balance"),
        ],
        external_id=lambda pk: str(12345000 + pk),
        demo_provider="Sandbox RajaSMS",
        demo_balance=Decimal("250000"),
        wrong_types={"sending_respon": "oops", "balance_respon": "oops"},
        delivery_report=delivery_report,
    )
)
