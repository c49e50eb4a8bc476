"""Osimesa prepaid: pulsa, data packages, vouchers (provider-docs 004). One endpoint, `POST {base_url}`
with form `key`, `sign` = md5(user id + API key) and `type` = service | order | status. Replies are
`{"code", "status", "message", "data"}`; a refusal is `status: false` with code 400 / 401 / 404.

A `service` item's price is `price.current` (what this account pays: its own level) and `price.list`, the
price at each of the vendor's levels (standar, premium, spesial), kept as `price_levels`. `multi` "1"/"0"
(may a second order for the same product and number run while the first is open), `note`, `updated_at`
and `category.type` are kept too."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from typing import TypeVar

from . import register
from .base import API_KEY, USER_ID, ProviderAdapter
from .errors import ProviderBadResponse, ProviderRejected
from .types import Capability, OrderRequest, PlacedOrder, ProductKind, ServiceInfo, Status, StatusResult
from .values import Record, describe, to_bool, unique

T = TypeVar("T")

MAX_RECENT = 15  # `limit` accepts 1-15
PRICE_LEVELS = ("standar", "premium", "spesial")
CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class OrderNotFound(ProviderRejected):
    """Code 404: no transaction with this ref_id."""


@register
class OsimesaAdapter(ProviderAdapter):
    kind = "osimesa"
    title = "Osimesa (prepaid)"
    credentials = (USER_ID, API_KEY)
    product_kind = ProductKind.PREPAID
    capabilities = frozenset({Capability.SERVICES, Capability.RECENT_ORDERS})
    status_map = {
        "waiting": Status.PENDING,
        "pending": Status.PENDING,
        "processing": Status.PROCESSING,
        "process": Status.PROCESSING,
        "success": Status.COMPLETED,
        "sukses": Status.COMPLETED,
        "failed": Status.FAILED,
        "gagal": Status.FAILED,
        "error": Status.FAILED,
        "canceled": Status.FAILED,
        "refund": Status.FAILED,
    }

    @property
    def sign(self) -> str:
        # md5 is the vendor's signature scheme, not our choice of protection
        return hashlib.md5((self.config.user_id + self.config.api_key).encode(), usedforsecurity=False).hexdigest()

    def fetch_services(self) -> list[ServiceInfo]:
        return self._call("service", lambda reply: [_service(item) for item in reply.records("data")])

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        if not request.service_id or not request.target:
            raise ValueError("prepaid order needs a product code and a target number")
        return self._call("order", self._placed, service=request.service_id, data_no=request.target)

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        return [self._status(ref_id) for ref_id in unique(external_ids)]

    def recent_orders(self, limit: int = 15) -> list[StatusResult]:
        """The latest transactions (`status` without ref_id): finds an order whose reply was lost."""
        count = min(max(limit, 1), MAX_RECENT)
        return self._call(
            "status",
            lambda reply: [self._transaction(item) for item in _transactions(reply)],
            limit=str(count),
        )

    # --- protocol --------------------------------------------------------------------------------
    def _call(self, type_: str, parse: Callable[[Record], T], **fields: str) -> T:
        form = {"key": self.config.api_key, "sign": self.sign, "type": type_, **fields}
        response = self.request("POST", self.config.base_url, data=form)
        with self.reading(response):
            reply = Record(self.json_reply(response))
            if not reply.flag("status", required=True):
                _raise_refusal(reply)
            return parse(reply)

    def _placed(self, reply: Record) -> PlacedOrder:
        data = reply.record("data")
        raw_status = data.text("status")
        return PlacedOrder(
            external_id=data.ident("ref_id"),
            status=self.map_status(raw_status) if raw_status else Status.PENDING,
            raw_status=raw_status,
            voucher=data.text("voucher"),
            charge=data.decimal("price", required=False),
            message=reply.text("message"),
            raw=reply.data,
        )

    def _status(self, ref_id: str) -> StatusResult:
        try:
            return self._call("status", lambda reply: self._lookup(reply, ref_id), ref_id=ref_id)
        except OrderNotFound as exc:
            return _not_found(ref_id, exc.message)

    def _lookup(self, reply: Record, ref_id: str) -> StatusResult:
        for item in _transactions(reply):
            if item.ident("ref_id") == ref_id:
                return self._transaction(item)
        return _not_found(ref_id, "no transaction with this ref_id in the reply")

    def _transaction(self, item: Record) -> StatusResult:
        raw_status = item.text("status", required=True)
        return StatusResult(
            external_id=item.ident("ref_id"),
            status=self.map_status(raw_status),
            raw_status=raw_status,
            charge=item.decimal("price", required=False),
            voucher=item.text("voucher"),
            number=_target(item),
            service_id=item.record("product", required=False).ident("code", required=False),
            created_at=_timestamp(item, "created_at"),
            raw=item.data,
        )


def _raise_refusal(reply: Record) -> None:
    code = reply.integer("code")
    message = reply.text("message") or f"request refused (code {code})"
    if code == 404:
        raise OrderNotFound(message)
    if code is not None and code >= 500:  # the vendor failed; whether it acted is unknown
        raise ProviderBadResponse(f"vendor error {code}: {message}")
    raise ProviderRejected(message)


def _not_found(ref_id: str, message: str) -> StatusResult:
    return StatusResult(external_id=ref_id, status=Status.UNKNOWN, raw_status="", found=False, error=message)


def _transactions(reply: Record) -> list[Record]:
    """`status` answers with a list; a lone object is read as a list of one."""
    data = reply.get("data")
    return [Record(data, "data")] if isinstance(data, dict) else reply.records("data")


def _target(item: Record) -> str:
    """`data`: the destination number(s), a list in the documented reply."""
    value = item.get("data")
    first = value[0] if isinstance(value, list) and value else value
    if first is None or first == []:
        return ""
    if isinstance(first, bool) or not isinstance(first, str | int):
        raise ProviderBadResponse(f"{item.where('data')}: expected destination numbers, got {describe(value)}")
    return str(first)


def _timestamp(item: Record, key: str) -> datetime | None:
    seconds = item.integer(key)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ProviderBadResponse(f"{item.where(key)}: not a timestamp: {seconds}") from None


def _clock(cutoff: Record, key: str) -> time | None:
    text = cutoff.text(key).strip()
    if not text:
        return None
    match = CLOCK.fullmatch(text)
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise ProviderBadResponse(f"{cutoff.where(key)}: expected HH:MM, got {text!r}")


def _service(item: Record) -> ServiceInfo:
    category = item.record("category", required=False)
    cutoff = item.record("cutoff", required=False)
    start, end = _clock(cutoff, "start"), _clock(cutoff, "end")
    if start is None or end is None or start == end:  # no window
        start = end = None
    price = item.record("price")
    listed = price.record("list", required=False)
    levels = {level: listed.decimal(level, required=False) for level in PRICE_LEVELS}
    return ServiceInfo(
        external_id=item.ident("code"),
        name=item.text("name", required=True),
        category=" / ".join(p for p in (category.text(k) for k in ("type", "main", "sub")) if p),
        kind=ProductKind.PREPAID,
        cost=price.decimal("current"),
        min_qty=1,
        max_qty=1,
        in_stock=item.text("status").strip().lower() == "ready",
        cutoff_start=start,
        cutoff_end=end,
        description=item.text("note"),
        multi=_multi(item),
        product_type=category.text("type"),
        upstream_updated_at=_optional_timestamp(item, "updated_at"),
        price_levels={level: value for level, value in levels.items() if value is not None},
        raw=item.data,
    )


def _optional_timestamp(item: Record, key: str) -> datetime | None:
    """A catalogue item's `updated_at`: informative only, so an unreadable one is dropped, not fatal."""
    try:
        return _timestamp(item, key)
    except ProviderBadResponse:
        return None


def _multi(item: Record) -> bool:
    """`multi`: "1" allows repeat orders, "0" does not; absent means allowed (the documented default "1")."""
    value = item.get("multi")
    if value is None or value == "":
        return True
    if isinstance(value, str | int | bool):
        return to_bool(value)
    raise ProviderBadResponse(f"{item.where('multi')}: expected 1 or 0, got {describe(value)}")
