"""Osimesa prepaid (provider-docs 004): `POST /api/prepaid` with `key`, `sign` = md5(user_id + key)
and `type` = service | order | status. Errors carry the code both in the body and as HTTP status.

Catalogue: every 5th product (i % 5 == 4) has `multi` "0": a second `order` for it with the same
data_no while the first is still `waiting` is refused with code 400 and REPEAT_MESSAGE. Each product lists
three different level prices (spesial < premium < standar = current, the account's own level)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from ..common import WIB, catalogue_size, find, in_cutoff, json_reply, number, params, sandbox_endpoint, stable_hash
from ..faults import Scope, with_fault
from ..models import SandboxAccount, SandboxOrder
from ..services import place_order, settle
from . import SandboxProtocol, api_key_credentials, register

KIND = "osimesa"
MAX_LIMIT = 15
ORDER_THANKS = "Thank you for purchasing the product, please wait for the transaction to be processed."
NOTES = {
    "waiting": "Transaction is being processed.",
    "success": "Transaction success.",
    "failed": "Transaction failed, balance refunded.",
}
REPEAT_MESSAGE = "Transaction with the same product and destination number is still being processed."
_DATA_NO = re.compile(r"^\d{9,16}$")


def _error(code: int, message: str) -> HttpResponse:
    return json_reply({"code": code, "status": False, "message": message, "data": None}, status=code)


def _ok(data: Any, message: str = "Success.") -> HttpResponse:
    return json_reply({"code": 200, "data": data, "status": True, "message": message})


def sign(user_id: str, api_key: str) -> str:
    return hashlib.md5(f"{user_id}{api_key}".encode()).hexdigest()  # noqa: S324 - the vendor's scheme


def _account(p: dict[str, str]) -> SandboxAccount | None:
    key, signature = p.get("key", ""), p.get("sign", "").strip().lower()
    account = SandboxAccount.objects.filter(kind=KIND, api_key=key).first() if key else None
    if account is None or not hmac.compare_digest(signature, sign(account.user_id, account.api_key)):
        return None
    return account


def _transaction(order: SandboxOrder, now: datetime, with_times: bool = True) -> dict[str, Any]:
    status = prepaid_status(order, now)
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
    return _ok(osimesa_products(account.catalogue_size))


def _order(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    code, data_no = p.get("service", "").strip(), p.get("data_no", "").strip()
    if not code or not data_no:
        return _error(400, "The service and data_no parameters are required.")
    product = find(osimesa_products(account.catalogue_size), "code", code)
    if product is None:
        return _error(400, "Product not found.")
    if product["status"] != "ready":
        return _error(400, "Product is out of stock.")
    start, end = product["cutoff"]["start"], product["cutoff"]["end"]
    if in_cutoff(start, end, timezone.localtime(now, WIB).time()):
        return _error(400, f"Product is in cutoff time ({start} - {end} WIB).")
    if not _DATA_NO.match(data_no):
        return _error(400, "Invalid destination number.")
    if product["multi"] == "0" and any(
        prepaid_status(o, now) == "waiting" for o in account.orders.filter(service_id=code, target=data_no)
    ):
        return _error(400, REPEAT_MESSAGE)
    price = Decimal(product["price"]["current"])
    outcome = prepaid_outcome(data_no)
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
        order.voucher = prepaid_voucher(order.pk, data_no)
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


# --- catalogue and rules ------------------------------------------------------------
OSIMESA_DEFAULT_SIZE = 60

_OPERATORS = {
    "TELKOMSEL": ("TSEL", "Telkomsel", "Flash"),
    "INDOSAT": ("ISAT", "Indosat", "Freedom"),
    "XL": ("XL", "XL", "Xtra Combo"),
    "AXIS": ("AX", "Axis", "Bronet"),
    "TRI": ("TRI", "Three", "AON"),
}
_PULSA = [5000, 10000, 20000, 25000, 50000, 100000]
_DATA = [(2, 7, 15000), (8, 30, 45000), (15, 30, 65000), (30, 30, 95000)]
_EMONEY = [
    ("DANA", "DANA"),
    ("OVO", "OVO"),
    ("GOPAY", "GoPay"),
    ("SHOPEEPAY", "ShopeePay"),
    ("LINKAJA", "LinkAja"),
]
_CUTOFFS = [("23:30", "00:30"), ("23:45", "00:15"), ("22:00", "02:00")]
NO_CUTOFF = ("00:00", "00:00")  # start == end: no window


def _rp(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _osimesa_base() -> list[tuple[str, str, str, str, str, int, str]]:
    """(code, name, type, main, sub, nominal cost, note) for the 60 base products."""
    base = []
    for main, (prefix, label, package) in _OPERATORS.items():
        for nominal in _PULSA:
            name = f"{label} Pulsa {_rp(nominal)}"
            cost = nominal + 1500 + nominal // 50
            base.append((f"{prefix}{nominal // 1000}", name, "pulsa-reguler", main, "Pulsa Reguler", cost, "-"))
        for gb, days, price in _DATA:
            name = f"{label} Data {package} {gb} GB / {days} Hari"
            note = f"Kuota {gb} GB, masa aktif {days} hari"
            base.append((f"{prefix}D{gb}", name, "paket-internet", main, package, price, note))
    for code, label in _EMONEY:
        for nominal in (20000, 50000):
            name, note = f"{label} Saldo {_rp(nominal)}", "Nomor HP terdaftar"
            base.append((f"{code}{nominal // 1000}", name, "e-money", code, "Saldo", nominal + 1000, note))
    return base


def osimesa_products(size: int = 0) -> list[dict[str, Any]]:
    """Osimesa `service` items. Every 11th is `empty`; every 8th has a nightly cutoff window."""
    base = _osimesa_base()
    items = []
    for i in range(catalogue_size(size, OSIMESA_DEFAULT_SIZE)):
        code, name, kind, main, sub, cost, note = base[i % len(base)]
        server = i // len(base)
        if server:
            code, name = f"{code}S{server + 1}", f"{name} (Server {server + 1})"
        standar = cost + stable_hash("osimesa", i) % 8 * 25
        start, end = _CUTOFFS[i // 8 % len(_CUTOFFS)] if i % 8 == 7 else NO_CUTOFF
        items.append(
            {
                "category": {"type": kind, "main": main, "sub": sub},
                "multi": "0" if i % 5 == 4 else "1",
                "name": name,
                "note": note,
                "code": code,
                "price": {
                    "list": {"standar": standar, "premium": standar - 200, "spesial": standar - 350},
                    "current": standar,
                },
                "cutoff": {"start": start, "end": end},
                "status": "empty" if i % 11 == 10 else "ready",
                "updated_at": 1711103224 + i * 3600,
            }
        )
    return items


def prepaid_outcome(target: str) -> str:
    return "failed" if target.endswith("99") else "success"


def prepaid_voucher(order_pk: int, target: str) -> str:
    """A 16-digit serial number, shown once the transaction succeeded."""
    return f"{(order_pk * 48271 + int(target[-6:] or 0)) % 10**16:016d}"


def prepaid_status(order: SandboxOrder, now: datetime) -> str:
    return order.outcome if order.final_at is not None and order.final_at <= now else "waiting"


def demo_credentials() -> dict[str, str]:
    """Osimesa signs with md5(user_id + api_key)."""
    return {**api_key_credentials(), "user_id": str(secrets.randbelow(90000) + 10000)}


PROTOCOL = register(
    SandboxProtocol(
        kind=KIND,
        title="Osimesa (prepaid)",
        base_path="osimesa/api/prepaid",
        urls=[path("osimesa/api/prepaid", endpoint, name="osimesa")],
        external_id=lambda pk: f"OSM{100000 + pk}",
        demo_provider="Sandbox Osimesa",
        demo_balance=Decimal("2000000"),
        wrong_types={"code": 200, "status": True, "message": "Success.", "data": "oops"},
        demo_credentials=demo_credentials,
    )
)
