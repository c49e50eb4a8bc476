"""VirtuSIM: OTP virtual numbers (provider-docs 000). `GET {base_url}?api_key=&action=...`, every
reply `{"status": true|false, "data": ...}` with the failure text in `data.msg` or a top-level `msg`.

Every documented failure message is read into a `Refusal` (MESSAGES), so the panel acts on its meaning
(credentials, the panel's own upstream balance, a product gone or out of numbers, a count limit) instead of
passing vendor text on to resellers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from . import register
from .base import ProviderAdapter
from .errors import ProviderRejected, Refusal
from .types import (
    ActionResult,
    Capability,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ServiceInfo,
    Status,
    StatusResult,
)
from .values import Record, records, unique

T = TypeVar("T")

WAITING_TEXT = "waiting sms code"  # `otp` until a code arrives
NOT_FOUND = "pesanan tidak ditemukan"
# The document's messages (lower case) and what each means; `Gagal <action>` refuses a set_status.
MESSAGES = {
    "api key salah": Refusal.AUTH,
    "saldo tidak cukup": Refusal.PROVIDER_FUNDS,
    "layanan tidak ditemukan": Refusal.NO_SERVICE,
    "layanan tidak tersedia": Refusal.OUT_OF_STOCK,
    "jumlah pesan tidak sesuai": Refusal.LIMIT,
    "permintaan tidak sesuai": Refusal.BAD_REQUEST,
    NOT_FOUND: Refusal.NOT_FOUND,
}
OTP_CODE = re.compile(r"(?<!\d)\d{4,8}(?!\d)")  # the first run of 4-8 digits in the SMS


@register
class VirtuSimAdapter(ProviderAdapter):
    kind = "virtusim"
    title = "VirtuSIM (OTP numbers)"
    product_kind = ProductKind.OTP
    capabilities = frozenset(
        {
            Capability.SERVICES,
            Capability.MULTI_STATUS,
            Capability.READY,
            Capability.CANCEL,
            Capability.RESEND,
            Capability.DONE,
            Capability.RECENT_ORDERS,
        }
    )
    # `status` documents Pending, Processing, Error, Success; `active_order` adds Ready and Otp Diterima.
    # Error: the number ended without a usable code (refunded unless a code had arrived: refund_amount).
    status_map = {
        "Ready": Status.PENDING,
        "Pending": Status.PENDING,
        "Otp Diterima": Status.PROCESSING,
        "Processing": Status.PROCESSING,
        "Success": Status.COMPLETED,
        "Error": Status.FAILED,
        # Not in the document; the vendor's newer pages and clients show them for a canceled number.
        "Cancel": Status.CANCELED,
        "Canceled": Status.CANCELED,
        "Dibatalkan": Status.CANCELED,
    }

    # --- catalogue and orders ---------------------------------------------------------------------
    def fetch_services(self) -> list[ServiceInfo]:
        return self._call("services", _services, country="indo")

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        if not request.service_id:
            raise ValueError("VirtuSIM order needs a service id")
        return self._call("order", _placed, service=request.service_id, operator=request.operator or "any")

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        """One `active_order` call covers every running order; only ids that left the active list
        (finished, canceled or unknown) are asked for one by one."""
        wanted = unique(external_ids)
        if not wanted:
            return []
        active = {result.external_id: result for result in self._active_orders()}
        return [active[ext_id] if ext_id in active else self._status(ext_id) for ext_id in wanted]

    def recent_orders(self, limit: int = 15) -> list[StatusResult]:
        """The account's active orders: where an order whose reply was lost shows up."""
        return self._active_orders()[: max(limit, 1)]

    # --- set_status 1-4 ----------------------------------------------------------------------------
    def ready(self, external_id: str) -> ActionResult:
        return self._set_status(external_id, 1)

    def cancel(self, external_id: str) -> ActionResult:
        return self._set_status(external_id, 2)

    def resend(self, external_id: str) -> ActionResult:
        return self._set_status(external_id, 3)

    def done(self, external_id: str) -> ActionResult:
        return self._set_status(external_id, 4)

    def _set_status(self, external_id: str, code: int) -> ActionResult:
        """A refusal (e.g. `Gagal Cancel`) raises ProviderRejected; a returned result is a success."""
        return self._call(
            "set_status",
            lambda reply: ActionResult(ok=True, message=reply.text("msg"), raw=reply.data),
            id=external_id,
            status=str(code),
        )

    # --- protocol ----------------------------------------------------------------------------------
    def _call(self, action: str, parse: Callable[[Record], T], **params: str) -> T:
        query = {"api_key": self.config.api_key, "action": action, **params}
        response = self.request("GET", self.config.base_url, params=query)
        with self.reading(response):
            reply = Record(self.json_reply(response))
            if not reply.flag("status", required=True):
                message = _failure_text(reply)
                raise ProviderRejected(message, refusal=refusal_of(message))
            return parse(reply)

    def _active_orders(self) -> list[StatusResult]:
        return self._call("active_order", self._active_list)

    def _active_list(self, reply: Record) -> list[StatusResult]:
        data = reply.get("data")
        if data in (None, [], {}):  # nothing active
            return []
        return [self._result(item, item.ident("id", required=False)) for item in records(data, "data")]

    def _status(self, external_id: str) -> StatusResult:
        try:
            return self._call("status", lambda reply: self._result(reply.record("data"), external_id), id=external_id)
        except ProviderRejected as exc:
            if exc.refusal != Refusal.NOT_FOUND:
                raise
            return StatusResult(
                external_id=external_id, status=Status.UNKNOWN, raw_status="", found=False, error=exc.message
            )

    def _result(self, item: Record, external_id: str) -> StatusResult:
        raw_status = item.text("status", required=True)
        sms = _sms_text(item)
        return StatusResult(
            external_id=external_id,
            status=self.map_status(raw_status),
            raw_status=raw_status,
            otp_code=_otp_code(sms),
            sms_text=sms,
            number=item.ident("number", required=False),
            raw=item.data,
        )


def refusal_of(message: str) -> Refusal | None:
    """The meaning of a documented failure message (None for a text the document does not list)."""
    text = " ".join(message.lower().split())
    if text in MESSAGES:
        return MESSAGES[text]
    return Refusal.REFUSED if text.startswith("gagal ") else None


def _failure_text(reply: Record) -> str:
    """`data.msg` on most actions, a top-level `msg` on set_status."""
    data = reply.get("data")
    for source in (data if isinstance(data, dict) else {}, reply.data):
        message = source.get("msg")
        if isinstance(message, str) and message.strip():
            return message.strip()
    return "request refused (no message)"


def _services(reply: Record) -> list[ServiceInfo]:
    return [_service(item) for item in reply.records("data")]


def _service(item: Record) -> ServiceInfo:
    stock = item.integer("tersedia")
    return ServiceInfo(
        external_id=item.ident("id"),
        name=item.text("name", required=True),
        category=item.text("category"),
        kind=ProductKind.OTP,
        cost=item.decimal("price"),
        min_qty=1,
        max_qty=1,
        stock=stock,
        in_stock=stock is None or stock > 0,
        raw=item.data,
    )


def _placed(reply: Record) -> PlacedOrder:
    data = reply.record("data")
    return PlacedOrder(
        external_id=data.ident("id"),
        status=Status.PENDING,  # a number is handed out and waits for its SMS
        raw_status="",
        number=data.ident("number"),
        message=reply.text("msg"),
        raw=reply.data,
    )


def _sms_text(item: Record) -> str:
    """`sms` (status) or `otp` (active_order), without the waiting placeholder."""
    for key in ("sms", "otp"):
        text = item.text(key).strip()
        if text and text.lower() != WAITING_TEXT:
            return text
    return ""


def _otp_code(sms: str) -> str:
    match = OTP_CODE.search(sms)
    return match.group() if match else ""
