"""SMM panel API v2 (provider-docs 001) plus the wider v2 family's optional actions:
services, add, status (single and `orders=`), balance, refill, refill_status, cancel.
Errors are HTTP 200 `{"error": "..."}`.

Every documented status, deterministically, from the order's link (lower-cased):
- Pending for the first `smm_step_seconds`, then running for another: `In progress`, or `Processing` when
  the link contains `processing`; then the final status:
- `partial` -> Partial (remains = quantity // 3, refund of remains x rate / 1000); `cancel` -> Canceled;
  `error` -> Error; `refund` -> Refunded (all three: remains = quantity, the whole charge refunded);
  otherwise Completed (remains 0).
- `currency-usd` -> its status replies say `"currency": "USD"` (a provider whose money changed).
`services` items carry `type` "Default" (link + quantity orders, the only kind the panel places)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from ..common import account_by_key, amount, catalogue_size, find, json_reply, params, sandbox_endpoint, stable_hash
from ..faults import Scope, with_fault
from ..models import SandboxAccount, SandboxOrder, SandboxRefill
from ..services import close_order, place_order, settle
from . import SandboxProtocol, register

KIND = "smm_v2"
MAX_IDS = 100
FULL_REFUND = ("Canceled", "Error", "Refunded")  # final statuses whose whole charge goes back
CENT = Decimal("0.01")


def _error(message: str) -> HttpResponse:
    return json_reply({"error": message})


def _ids(p: dict[str, str]) -> list[str]:
    raw = p.get("orders") or p.get("order") or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


def _per_1000(rate: Decimal, quantity: int) -> Decimal:
    return (rate * quantity / 1000).quantize(CENT, rounding=ROUND_HALF_UP)


def _service(account: SandboxAccount, service_id: str) -> dict[str, Any] | None:
    return find(smm_services(account.catalogue_size), "service", service_id)


def _services(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    return json_reply(smm_services(account.catalogue_size))


def _add(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    item = _service(account, p.get("service", ""))
    if item is None:
        return _error("Incorrect service ID")
    link = p.get("link", "").strip()
    if not link or any(c.isspace() for c in link):
        return _error("Incorrect link")
    try:
        quantity = int(p.get("quantity", ""))
    except ValueError:
        return _error("Incorrect request")
    if quantity < int(item["min"]):
        return _error(f"Quantity less than minimal {item['min']}")
    if quantity > int(item["max"]):
        return _error(f"Quantity more than maximal {item['max']}")
    rate = Decimal(item["rate"])
    charge = max(_per_1000(rate, quantity), CENT)
    outcome, remains = smm_outcome(link, quantity)
    refund = charge if outcome in FULL_REFUND else min(_per_1000(rate, remains), charge)
    order = place_order(
        account,
        charge,
        created_at=now,
        service_id=item["service"],
        service_name=item["name"],
        category=item["category"],
        link=link,
        quantity=quantity,
        outcome=outcome,
        remains=remains,
        refund=refund,
        final_at=now + timedelta(seconds=2 * account.smm_step_seconds),
    )
    if order is None:
        return _error("Not enough funds on balance")
    return json_reply({"success": True, "order": order.external_id})


def _status_of(order: SandboxOrder, now: datetime) -> dict[str, str]:
    view = smm_view(order, now)
    return {
        "charge": amount(order.cost),
        "start_count": str(view.start_count),
        "status": view.status,
        "remains": str(view.remains),
        "currency": "USD" if "currency-usd" in order.link.lower() else "IDR",
    }


def _status(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    ids = _ids(p)
    if not ids or len(ids) > MAX_IDS:
        return _error("Incorrect request")
    found = {o.external_id: o for o in account.orders.filter(external_id__in=ids)}
    if "orders" not in p:
        order = found.get(ids[0])
        return json_reply(_status_of(order, now)) if order else _error("Incorrect order ID")
    return json_reply({i: _status_of(found[i], now) if i in found else {"error": "Incorrect order ID"} for i in ids})


def _balance(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    return json_reply({"balance": f"{account.balance:.2f}", "currency": "IDR"})


def _refill(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    order = account.orders.filter(external_id=p.get("order", "")).first() if p.get("order") else None
    if order is None:
        return _error("Incorrect order ID")
    item = _service(account, order.service_id)
    if item is None or not item["refill"]:
        return _error("Refill is not available for this service")
    if smm_view(order, now).status not in ("Completed", "Partial"):
        return _error("Order is not completed yet")
    refill = SandboxRefill.objects.create(order=order, created_at=now)
    return json_reply({"refill": str(refill.pk)})


def _refill_status(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    raw = p.get("refill", "")
    refill = SandboxRefill.objects.filter(order__account=account, pk=int(raw)).first() if raw.isdigit() else None
    if refill is None:
        return _error("Incorrect refill ID")
    return json_reply({"status": refill_status(refill.created_at, account.smm_step_seconds, now)})


def _cancel_one(account: SandboxAccount, order: SandboxOrder | None, now: datetime) -> int | dict[str, str]:
    if order is None:
        return {"error": "Incorrect order ID"}
    item = _service(account, order.service_id)
    if item is None or not item["cancel"]:
        return {"error": "Cancel is not available for this service"}
    if smm_view(order, now).status not in ("Pending", "Processing", "In progress"):
        return {"error": "Order can not be canceled"}
    if not close_order(order, "Canceled", order.cost, now, remains=order.quantity):
        return {"error": "Order can not be canceled"}
    return 1


def _cancel(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    ids = _ids(p)
    if not ids or len(ids) > MAX_IDS:
        return _error("Incorrect request")
    found = {o.external_id: o for o in account.orders.filter(external_id__in=ids)}
    return json_reply(
        [{"order": int(i) if i.isdigit() else i, "cancel": _cancel_one(account, found.get(i), now)} for i in ids]
    )


Handler = Callable[[SandboxAccount, dict[str, str], datetime], HttpResponse]
ACTIONS: dict[str, tuple[Handler, Scope]] = {
    "services": (_services, Scope.OTHER),
    "add": (_add, Scope.ORDER),
    "status": (_status, Scope.STATUS),
    "balance": (_balance, Scope.OTHER),
    "refill": (_refill, Scope.OTHER),
    "refill_status": (_refill_status, Scope.OTHER),
    "cancel": (_cancel, Scope.OTHER),
}


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@sandbox_endpoint
def endpoint(request: HttpRequest) -> HttpResponse:
    p = params(request)
    account = account_by_key(KIND, p.get("key", "") or _bearer(request))
    if account is None:
        return _error("Invalid API key")
    now = timezone.now()
    settle(account, now)
    handler, scope = ACTIONS.get(p.get("action", ""), (None, Scope.OTHER))
    if handler is None:
        return _error("Incorrect request")
    return with_fault(account, scope, lambda: handler(account, p, now))


# --- catalogue and rules ------------------------------------------------------------
SMM_DEFAULT_SIZE = 120

_SMM_PLATFORMS = ["Instagram", "TikTok", "YouTube", "Facebook", "Twitter"]
# (product, base rate per 1000 in Rupiah, min, max)
_SMM_PRODUCTS = [
    ("Followers", 18000, 100, 10000),
    ("Likes", 6000, 50, 50000),
    ("Views", 1500, 100, 1000000),
    ("Comments", 45000, 10, 1000),
    ("Shares", 9000, 50, 20000),
    ("Saves", 5000, 50, 20000),
]
_SMM_VARIANTS = ["Real", "HQ", "Refill 30 Hari", "Fast", "Indonesia", "No Refill", "Refill 7 Hari", "Murah"]


def smm_services(size: int = 0) -> list[dict[str, Any]]:
    """SMM v2 `services` items: string rate/min/max, boolean refill/cancel, ids mostly numeric.

    Every 10th item has a 24-character hex id, as some v2 panels use.
    """
    combos = [(p, prod, v) for p in _SMM_PLATFORMS for prod in _SMM_PRODUCTS for v in _SMM_VARIANTS[:4]]
    items = []
    for i in range(catalogue_size(size, SMM_DEFAULT_SIZE)):
        platform, (product, base, lo, hi), variant = combos[i % len(combos)]
        server = i // len(combos)
        if server:
            variant = _SMM_VARIANTS[(server + i) % len(_SMM_VARIANTS)] + f" S{server + 1}"
        seed = stable_hash("smm", i)
        rate = Decimal(base) * (Decimal(80) + seed % 60) / 100
        # A few rates carry cents, as real panels' do.
        rate = rate.quantize(Decimal("1")) + (Decimal("0") if i % 7 else Decimal("0.5"))
        service_id = hashlib.md5(f"smm{i}".encode()).hexdigest()[:24] if i % 10 == 9 else str(1001 + i)  # noqa: S324
        items.append(
            {
                "service": service_id,
                "name": f"{platform} {product} [{variant}]",
                "category": platform,
                "type": "Default",  # the only type the panel's orders (link + quantity) fit
                "rate": str(rate),
                "min": str(lo),
                "max": str(hi),
                "refill": "Refill" in variant and "No Refill" not in variant,
                "cancel": seed % 3 == 0,
            }
        )
    return items


def smm_outcome(link: str, quantity: int) -> tuple[str, int]:
    """(final status, final remains) from the link's keyword."""
    lowered = link.lower()
    if "partial" in lowered:
        return "Partial", quantity // 3
    if "cancel" in lowered:
        return "Canceled", quantity
    if "error" in lowered:
        return "Error", quantity
    if "refund" in lowered:
        return "Refunded", quantity
    return "Completed", 0


@dataclass(frozen=True)
class SmmView:
    status: str
    remains: int
    start_count: int


def smm_view(order: SandboxOrder, now: datetime) -> SmmView:
    start_count = (order.pk * 7919) % 9000 + 100
    if order.closed_status:
        return SmmView(order.closed_status, order.remains, start_count)
    final_at = order.final_at or order.created_at
    started = order.created_at + (final_at - order.created_at) / 2
    if now < started:
        return SmmView("Pending", order.quantity, 0)
    if now < final_at:
        running = (now - started) / max(final_at - started, timedelta(microseconds=1))
        delivered = int((order.quantity - order.remains) * running)
        running_word = "Processing" if "processing" in order.link.lower() else "In progress"
        return SmmView(running_word, order.quantity - delivered, start_count)
    return SmmView(order.outcome, order.remains, start_count)


def refill_status(created_at: datetime, step_seconds: int, now: datetime) -> str:
    elapsed = (now - created_at).total_seconds()
    if elapsed < step_seconds:
        return "Pending"
    return "In progress" if elapsed < 2 * step_seconds else "Completed"


PROTOCOL = register(
    SandboxProtocol(
        kind=KIND,
        title="SMM panel v2",
        base_path="smm_v2/api",
        urls=[path("smm_v2/api", endpoint, name="smm_v2")],
        external_id=lambda pk: str(100000 + pk),
        demo_provider="Sandbox SMM",
        demo_balance=Decimal("1000000"),
        wrong_types={"order": ["oops"], "charge": "abc", "status": 5, "remains": "lots", "balance": "lots"},
    )
)
