"""Osimesa prepaid (provider-docs 004): `POST /api/prepaid` with `key`, `sign` = md5(user_id + key)
and `type` = service | order | status. Errors carry the code both in the body and as HTTP status."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .. import catalogue, rules
from ..faults import Scope, with_fault
from ..models import Kind, SandboxAccount, SandboxOrder
from ..services import place_order, settle
from .common import json_reply, number, params, sandbox_endpoint

MAX_LIMIT = 15
ORDER_THANKS = "Thank you for purchasing the product, please wait for the transaction to be processed."
NOTES = {
    "waiting": "Transaction is being processed.",
    "success": "Transaction success.",
    "failed": "Transaction failed, balance refunded.",
}
_DATA_NO = re.compile(r"^\d{9,16}$")


def _error(code: int, message: str) -> HttpResponse:
    return json_reply({"code": code, "status": False, "message": message, "data": None}, status=code)


def _ok(data: Any, message: str = "Success.") -> HttpResponse:
    return json_reply({"code": 200, "data": data, "status": True, "message": message})


def sign(user_id: str, api_key: str) -> str:
    return hashlib.md5(f"{user_id}{api_key}".encode()).hexdigest()  # noqa: S324 - the vendor's scheme


def _account(p: dict[str, str]) -> SandboxAccount | None:
    key, signature = p.get("key", ""), p.get("sign", "").strip().lower()
    account = SandboxAccount.objects.filter(kind=Kind.OSIMESA, api_key=key).first() if key else None
    if account is None or not hmac.compare_digest(signature, sign(account.user_id, account.api_key)):
        return None
    return account


def _transaction(order: SandboxOrder, now: datetime, with_times: bool = True) -> dict[str, Any]:
    status = rules.prepaid_status(order, now)
    item: dict[str, Any] = {
        "data": [order.target],
        "note": NOTES[status],
        "price": number(order.cost),
        "ref_id": order.external_id,
        "status": status,
        "product": {"code": order.service_id, "type": order.category, "service": order.service_name},
        "voucher": order.voucher if status == "success" else "",
    }
    if with_times:
        updated = order.final_at if status != "waiting" and order.final_at else order.created_at
        item["created_at"] = int(order.created_at.timestamp())
        item["updated_at"] = int(updated.timestamp())
    return item


def _services(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    return _ok(catalogue.osimesa_products(account.catalogue_size))


def _order(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    code, data_no = p.get("service", "").strip(), p.get("data_no", "").strip()
    if not code or not data_no:
        return _error(400, "The service and data_no parameters are required.")
    product = catalogue.find(catalogue.osimesa_products(account.catalogue_size), "code", code)
    if product is None:
        return _error(400, "Product not found.")
    if product["status"] != "ready":
        return _error(400, "Product is out of stock.")
    start, end = product["cutoff"]["start"], product["cutoff"]["end"]
    if rules.in_cutoff(start, end, timezone.localtime(now, rules.WIB).time()):
        return _error(400, f"Product is in cutoff time ({start} - {end} WIB).")
    if not _DATA_NO.match(data_no):
        return _error(400, "Invalid destination number.")
    price = Decimal(product["price"]["current"])
    outcome = rules.prepaid_outcome(data_no)
    order = place_order(
        account,
        price,
        created_at=now,
        service_id=code,
        service_name=product["name"],
        category=product["category"]["type"],
        target=data_no,
        outcome=outcome,
        refund=price if outcome == "failed" else Decimal(0),
        final_at=now + timedelta(seconds=account.prepaid_delay_seconds),
    )
    if order is None:
        return _error(400, "Insufficient balance.")
    if outcome == "success":
        order.voucher = rules.prepaid_voucher(order.pk, data_no)
        order.save(update_fields=["voucher"])
    return _ok(_transaction(order, now, with_times=False), ORDER_THANKS)


def _status(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    raw_limit = p.get("limit", "").strip() or str(MAX_LIMIT)
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        return _error(400, f"The limit must be between 1 and {MAX_LIMIT}.")
    ref_id = p.get("ref_id", "").strip()
    orders = account.orders.all()
    if ref_id:
        orders = orders.filter(external_id=ref_id)
        if not orders.exists():
            return _error(404, "Transaction not found.")
    return _ok([_transaction(order, now) for order in orders[: int(raw_limit)]])


Handler = Callable[[SandboxAccount, dict[str, str], datetime], HttpResponse]
ACTIONS: dict[str, tuple[Handler, Scope]] = {
    "service": (_services, Scope.OTHER),
    "order": (_order, Scope.ORDER),
    "status": (_status, Scope.STATUS),
}


@sandbox_endpoint
def endpoint(request: HttpRequest) -> HttpResponse:
    p = params(request)
    account = _account(p)
    if account is None:
        return _error(401, "Invalid API key or signature.")
    now = timezone.now()
    settle(account, now)
    handler, scope = ACTIONS.get(p.get("type", ""), (None, Scope.OTHER))
    if handler is None:
        return _error(400, "Invalid type.")
    return with_fault(account, scope, lambda: handler(account, p, now))
