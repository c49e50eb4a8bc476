"""SMM panel API v2 (provider-docs 001). `POST {base_url}` with form `key` + `action` (we also send
`Authorization: Bearer`); errors are HTTP 200 `{"error": "..."}`. The page documents services, add,
status and balance; multi-status, refill, refill_status and cancel come from the wider v2 family and
are offered only while the provider option `extended` is on (default).

Every documented status is mapped (STATUS_MAP). A status reply names its `currency`: one that differs from
the provider's (ProviderConfig.currency, else the panel's Rupiah) is refused as a bad response before
anything in it reaches an order, so a charge or remains in another money is never applied."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from . import register
from .base import ProviderAdapter
from .errors import ProviderBadResponse, ProviderRejected
from .types import (
    ActionResult,
    Capability,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderBalance,
    RefillResult,
    ServiceInfo,
    Status,
    StatusResult,
)
from .values import Record, describe, records, to_bool, unique

T = TypeVar("T")
logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # ids per `orders=` status call
EXTENDED = frozenset({Capability.MULTI_STATUS, Capability.REFILL, Capability.REFILL_STATUS, Capability.CANCEL})
PANEL_CURRENCY = "IDR"  # what the panel's money is in: expected while the provider's is not known
# Single-order error texts meaning "no such order" (the family's wording varies between panels).
NOT_FOUND_HINTS = ("order id", "not found")


@register
class SmmV2Adapter(ProviderAdapter):
    kind = "smm_v2"
    title = "SMM panel API v2"
    product_kind = ProductKind.SMM
    capabilities = frozenset({Capability.SERVICES, Capability.BALANCE}) | EXTENDED
    status_map = {
        "Pending": Status.PENDING,
        "Processing": Status.PROCESSING,
        "In progress": Status.PROCESSING,
        "Completed": Status.COMPLETED,
        "Partial": Status.PARTIAL,
        "Canceled": Status.CANCELED,
        # Refunded: the vendor gave the whole charge back; the reseller is owed theirs (a full refund, once).
        "Refunded": Status.CANCELED,
        # Error ("Terjadi error pada order"): the order failed upstream; refunded in full like any failure.
        "Error": Status.FAILED,
    }

    @property
    def extended(self) -> bool:
        return to_bool(self.config.options.get("extended", True))

    def effective_capabilities(self) -> frozenset[Capability]:
        return self.capabilities if self.extended else self.capabilities - EXTENDED

    # --- documented actions ----------------------------------------------------------------------
    def fetch_services(self) -> list[ServiceInfo]:
        return self._call("services", lambda payload: [_service(item) for item in records(payload, "services")])

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        if not request.service_id or not request.link or request.quantity < 1:
            raise ValueError("SMM order needs a service id, a link and a quantity of at least 1")
        return self._call("add", _placed, service=request.service_id, link=request.link, quantity=str(request.quantity))

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        """`orders=` in chunks of 100 when extended, else one `status` call per id."""
        wanted = unique(external_ids)
        if not self.extended:
            return [self._single_status(ext_id) for ext_id in wanted]
        results: list[StatusResult] = []
        for start in range(0, len(wanted), BATCH_SIZE):
            results.extend(self._multi_status(wanted[start : start + BATCH_SIZE]))
        return results

    def fetch_balance(self) -> ProviderBalance:
        def parse(payload: Any) -> ProviderBalance:
            reply = Record(payload)
            return ProviderBalance(
                amount=reply.decimal("balance"), currency=reply.text("currency") or "IDR", raw=reply.data
            )

        return self._call("balance", parse)

    # --- optional actions (extended) --------------------------------------------------------------
    def refill(self, external_id: str) -> RefillResult:
        self._require_extended("refill")
        return self._call(
            "refill",
            lambda payload: RefillResult(refill_id=Record(payload).ident("refill"), raw=payload),
            order=external_id,
        )

    def refill_status(self, refill_id: str) -> RefillResult:
        self._require_extended("refill_status")
        return self._call(
            "refill_status",
            lambda payload: RefillResult(
                refill_id=refill_id, status=Record(payload).text("status", required=True), raw=payload
            ),
            refill=refill_id,
        )

    def cancel(self, external_id: str) -> ActionResult:
        """Cancel one order (`orders=ID`); a per-order error raises ProviderRejected."""
        self._require_extended("cancel")
        return self._call("cancel", lambda payload: _cancel_result(payload, external_id), orders=external_id)

    # --- protocol --------------------------------------------------------------------------------
    def _require_extended(self, action: str) -> None:
        if not self.extended:
            raise self._unsupported(action)

    def _call(self, action: str, parse: Callable[[Any], T], **fields: str) -> T:
        key = self.config.api_key
        response = self.request(
            "POST",
            self.config.base_url,
            data={"key": key, "action": action, **fields},
            headers={"Authorization": f"Bearer {key}"},
        )
        with self.reading(response):
            payload = self.json_reply(response)
            if isinstance(payload, Mapping):
                _raise_vendor_error(payload)
            return parse(payload)

    def _single_status(self, external_id: str) -> StatusResult:
        try:
            return self._call("status", lambda payload: self._result(Record(payload), external_id), order=external_id)
        except ProviderRejected as exc:
            if not any(hint in exc.message.lower() for hint in NOT_FOUND_HINTS):
                raise
            return _not_found(external_id, exc.message)

    def _multi_status(self, chunk: list[str]) -> list[StatusResult]:
        return self._call("status", lambda payload: self._batch_results(payload, chunk), orders=",".join(chunk))

    def _batch_results(self, payload: Any, chunk: list[str]) -> list[StatusResult]:
        """Reply keyed by order id; a per-id `{"error": ...}` means the id is unknown upstream."""
        reply = Record(payload, "status")
        if not any(ext_id in reply.data for ext_id in chunk):
            raise ProviderBadResponse(f"status: none of the {len(chunk)} requested ids is in the reply")
        results = []
        for ext_id in chunk:
            if ext_id not in reply.data:
                # Silence is not "does not exist": leave the order as it is and ask again next time.
                logger.warning("%s: order %s missing from the status reply", self.label, ext_id)
                continue
            entry = reply.record(ext_id)
            error = entry.get("error")
            if error is not None:
                results.append(_not_found(ext_id, str(error)))
            else:
                results.append(self._result(entry, ext_id))
        return results

    @property
    def currency(self) -> str:
        return (self.config.currency or PANEL_CURRENCY).upper()

    def _check_currency(self, entry: Record) -> None:
        said = entry.text("currency").strip().upper()
        if said and said != self.currency:
            where = entry.where("currency")
            raise ProviderBadResponse(f"{where}: {said}, but this provider's currency is {self.currency}")

    def _result(self, entry: Record, external_id: str) -> StatusResult:
        self._check_currency(entry)
        raw_status = entry.text("status", required=True)
        return StatusResult(
            external_id=external_id,
            status=self.map_status(raw_status),
            raw_status=raw_status,
            remains=entry.integer("remains"),
            start_count=entry.integer("start_count"),
            charge=entry.decimal("charge", required=False),
            raw=entry.data,
        )


def _raise_vendor_error(payload: Mapping[str, Any]) -> None:
    """`{"error": "..."}` (or `success: false`) is the vendor saying no."""
    error = payload.get("error")
    if error is not None:
        raise ProviderRejected(error if isinstance(error, str) else describe(error))
    if payload.get("success") is False:
        message = payload.get("message")
        raise ProviderRejected(message if isinstance(message, str) and message else "request refused")


def _not_found(external_id: str, message: str) -> StatusResult:
    return StatusResult(external_id=external_id, status=Status.UNKNOWN, raw_status="", found=False, error=message)


def _service(item: Record) -> ServiceInfo:
    return ServiceInfo(
        external_id=item.ident("service"),
        name=item.text("name", required=True),
        category=item.text("category"),
        kind=ProductKind.SMM,
        cost=item.decimal("rate"),  # per 1000 units
        min_qty=item.integer("min", required=True),
        max_qty=item.integer("max", required=True),
        can_refill=item.flag("refill"),
        can_cancel=item.flag("cancel"),
        service_type=item.text("type").strip(),
        raw=item.data,
    )


def _placed(payload: Any) -> PlacedOrder:
    reply = Record(payload)
    return PlacedOrder(external_id=reply.ident("order"), status=Status.PENDING, raw_status="", raw=reply.data)


def _cancel_result(payload: Any, external_id: str) -> ActionResult:
    """`[{"order": 1, "cancel": 1}, {"order": 2, "cancel": {"error": "..."}}]`."""
    for entry in records(payload, "cancel"):
        if entry.ident("order") != external_id:
            continue
        outcome = entry.get("cancel")
        if isinstance(outcome, Mapping) and outcome.get("error") is not None:
            raise ProviderRejected(str(outcome["error"]))
        if outcome is None:
            raise ProviderBadResponse(f"{entry.where('cancel')}: missing")
        return ActionResult(ok=True, raw=entry.data)
    raise ProviderBadResponse(f"cancel: no entry for order {external_id}")
