"""RajaSMS bulk JSON (provider-docs 002). `POST {base_url}/sms/api_sms_{route}_send_json.php` with
`{"apikey", "callbackurl", "datapacket": [...]}`; the routes reguler / masking / otp are the panel's
SMS types. Replies wrap one object in `sending_respon` / `balance_respon`; globalstatus 10 = accepted.

globalstatus 40 (this server's IP address is not registered with the gateway) and 50 (the account's
balance has expired) are the panel's own account's problems: `IpNotRegistered` / `BalanceExpired`
(ProviderAccountError: nothing was sent, the SMS moves to the next route or is refunded, and the operator
is told). The balance's `Expired` date ("yyyy-mm-dd", WIB, as public clients parse it) is read leniently:
text that is not a date is kept as text (`ProviderBalance.expires`) with no date."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from . import register
from .base import ProviderAdapter
from .errors import CallbackInvalid, ProviderAccountError, ProviderBadResponse, ProviderRejected
from .types import (
    Capability,
    DeliveryReport,
    DeliveryState,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderBalance,
    RecipientResult,
    Status,
    StatusResult,
)
from .values import Record, describe

ROUTES = ("reguler", "masking", "otp")
MAX_PACKETS = 1000
ACCEPTED = 10  # globalstatus and sendingstatus "Success"
WIB = ZoneInfo("Asia/Jakarta")

IP_NOT_REGISTERED = 40
EXPIRED_BALANCE = 50
EXPIRED_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d")

# Callback `deliverystatus`. Pending: 1 Schedule (accepted, waiting for its sendingdatetime: still
# queued), 2 Sent. Delivered: 3, and 10 (delivered over the gateway's backup route). Charged but not
# delivered (FAILED, no refund): 4 Delivered Error (the network took it, the handset did not), 5 System
# Failed and 8 System Error (the gateway tried: it gives nothing back for them). Never sent, so not
# charged (REJECTED, the reseller's share refunded): 6 Saldo Minus/Expired (no balance to take it from),
# 7 Reject (refused before sending), 9 Duplicate message (dropped as a repeat). docs/provider-notes.md.
DELIVERY_STATES: Mapping[int, DeliveryState] = {
    1: DeliveryState.QUEUED,
    2: DeliveryState.SENT,
    3: DeliveryState.DELIVERED,
    4: DeliveryState.FAILED,
    5: DeliveryState.FAILED,
    6: DeliveryState.REJECTED,
    7: DeliveryState.REJECTED,
    8: DeliveryState.FAILED,
    9: DeliveryState.REJECTED,
    10: DeliveryState.DELIVERED,
}


class IpNotRegistered(ProviderAccountError):
    """globalstatus 40: the gateway does not accept requests from this server's IP address."""


class BalanceExpired(ProviderAccountError):
    """globalstatus 50: the account's balance has passed its Expired date; nothing is sent."""


def parse_expired(raw: object) -> tuple[str, date | None]:
    """`Expired` as (text, date): the date when the text reads as one of EXPIRED_FORMATS, else None.
    Never raises: a gateway that writes something else still reports its balance."""
    if raw is None or isinstance(raw, bool):
        return "", None
    text = str(raw).strip()[:40]
    for fmt in EXPIRED_FORMATS:
        try:
            return text, datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return text, None


def route_of(name: str) -> str:
    route = (name or "").strip().lower()
    if route not in ROUTES:
        raise ValueError(f"RajaSMS route must be one of {', '.join(ROUTES)}, got {name!r}")
    return route


def sending_datetime(schedule: datetime | None) -> str:
    """`sendingdatetime`: empty = now, else the time in WIB as yyyy-mm-dd hh:mm:ss."""
    if schedule is None:
        return ""
    if schedule.tzinfo is None:
        raise ValueError("SMS schedule must be timezone-aware")
    return schedule.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")


@register
class RajaSmsAdapter(ProviderAdapter):
    kind = "rajasms"
    title = "RajaSMS (SMS JSON)"
    sms_routes = ("reguler", "masking", "otp")
    product_kind = ProductKind.SMS
    capabilities = frozenset({Capability.BALANCE, Capability.CALLBACKS})
    # SMS orders take their state from per-packet results and callbacks (DELIVERY_STATES), not from
    # an order status; RajaSMS has no status endpoint.
    status_map: Mapping[str, Status] = {}

    def _url(self, route: str, action: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/sms/api_sms_{route}_{action}_json.php"

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        """One packet per recipient, each with its own text when the request has them. Raises
        ProviderRejected when the gateway refuses the whole send (a globalstatus other than 10, or every
        packet rejected): nothing was charged, so the caller may try the next route."""
        route = route_of(request.service_id)
        numbers = list(request.recipients)
        if not numbers:
            raise ValueError("SMS order needs at least one recipient")
        if len(numbers) > MAX_PACKETS:
            raise ValueError(f"RajaSMS accepts at most {MAX_PACKETS} packets per send, got {len(numbers)}")
        when = sending_datetime(request.schedule)
        body = {
            "apikey": self.config.api_key,
            "callbackurl": self.config.callback_url,
            "datapacket": [
                {"number": n, "message": request.message_for(i), "sendingdatetime": when} for i, n in enumerate(numbers)
            ],
        }
        response = self.request("POST", self._url(route, "send"), json_body=body)
        with self.reading(response):
            respon = _accepted(self.json_reply(response), "sending_respon")
            return _placed(respon, numbers)

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        return []  # no status endpoint: delivery reports arrive by callback

    def fetch_balance(self) -> ProviderBalance:
        route = route_of(self.config.options.get("route", "masking"))
        response = self.request("POST", self._url(route, "balance"), json_body={"apikey": self.config.api_key})
        with self.reading(response):
            respon = _accepted(self.json_reply(response), "balance_respon")
            text, expires_on = parse_expired(respon.get("Expired"))
            amount = respon.decimal("Balance")
            return ProviderBalance(amount=amount, expires=text, expires_on=expires_on, raw=respon.data)

    def parse_callback(
        self, method: str, query: Mapping[str, str], body: bytes, content_type: str = ""
    ) -> list[DeliveryReport]:
        """A JSON POST of one report object or a list of them."""
        if method.upper() != "POST":
            raise CallbackInvalid(f"RajaSMS delivery reports are POSTed as JSON, got {method}")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise CallbackInvalid("body is not JSON") from None
        if isinstance(payload, dict) and isinstance(payload.get("status_respon"), list):
            payload = payload["status_respon"]  # the wrapped form some gateway servers post (public clients read it)
        items = payload if isinstance(payload, list) else [payload]
        if not items:
            raise CallbackInvalid("no delivery report in the body")
        try:
            return [_report(Record(item, f"report[{index}]")) for index, item in enumerate(items)]
        except ProviderBadResponse as exc:
            raise CallbackInvalid(exc.message) from None


def _accepted(payload: Any, key: str) -> Record:
    """The single object inside `sending_respon` / `balance_respon`, checked for globalstatus 10."""
    value = Record(payload).get(key)
    if isinstance(value, list):
        if not value:
            raise ProviderBadResponse(f"{key}: empty")
        respon = Record(value[0], f"{key}[0]")
    elif isinstance(value, Mapping):
        respon = Record(value, key)
    else:
        raise ProviderBadResponse(f"{key}: expected a list with one object, got {describe(value)}")
    status = respon.integer("globalstatus", required=True)
    if status != ACCEPTED:
        text = respon.text("globalstatustext") or f"globalstatus {status}"
        if status == IP_NOT_REGISTERED:
            raise IpNotRegistered(
                f"{text} (globalstatus 40): register this server's IP address in the gateway's dashboard"
            )
        if status == EXPIRED_BALANCE:
            raise BalanceExpired(f"{text} (globalstatus 50): the gateway balance has expired; top it up to renew it")
        raise ProviderRejected(text)
    return respon


def _placed(respon: Record, numbers: list[str]) -> PlacedOrder:
    packets = respon.records("datapacket")
    if not packets:
        raise ProviderBadResponse(f"{respon.where('datapacket')}: empty although the send was accepted")
    # Packets answer in request order; the recipient is named as the panel sent it.
    results = [_recipient(_packet(item), number) for item, number in zip(packets, numbers, strict=False)]
    results += [
        RecipientResult(number=n, external_id="", state=DeliveryState.SENT, code="unknown", text="no packet in reply")
        for n in numbers[len(packets) :]
    ]
    if all(r.state is DeliveryState.REJECTED for r in results):
        reasons = ", ".join(dict.fromkeys(f"{r.text or 'rejected'} ({r.code})" for r in results))
        raise ProviderRejected(f"every packet was rejected: {reasons}")
    accepted = [r for r in results if r.state is DeliveryState.QUEUED]
    prices = [r.price for r in accepted]
    return PlacedOrder(
        external_id=accepted[0].external_id if accepted else "",
        # without an accepted packet only unknown outcomes are left: reconcile, don't refund
        status=Status.PROCESSING if accepted else Status.UNKNOWN,
        raw_status=respon.text("globalstatustext"),
        charge=sum(prices, Decimal(0)) if prices and None not in prices else None,
        recipients=tuple(results),
        message=respon.text("globalstatustext"),
        raw=respon.data,
    )


def _packet(item: Record) -> Record:
    """`{"packet": {...}}` as the real gateway sends it; a bare packet object is read the same."""
    return item.record("packet") if "packet" in item.data else item


def _recipient(packet: Record, number: str) -> RecipientResult:
    status = packet.integer("sendingstatus", required=True)
    accepted = status == ACCEPTED
    return RecipientResult(
        number=number,
        external_id=packet.ident("sendingid") if accepted else "",
        state=DeliveryState.QUEUED if accepted else DeliveryState.REJECTED,
        code=str(status),
        text=packet.text("sendingstatustext"),
        price=packet.decimal("price", required=False),
    )


def _report(item: Record) -> DeliveryReport:
    code = item.integer("deliverystatus", required=True)
    state = DELIVERY_STATES.get(code)
    if state is None:
        raise ProviderBadResponse(f"{item.where('deliverystatus')}: unknown code {code}")
    return DeliveryReport(
        external_id=item.ident("sendingid"),
        number=item.ident("number", required=False),
        state=state,
        code=str(code),
        text=item.text("deliverystatustext"),
        raw=item.data,
    )
