"""SMM panel API v2 (provider-docs 001) plus the wider v2 family's optional actions:
services, add, status (single and `orders=`), balance, refill, refill_status, cancel.
Errors are HTTP 200 `{"error": "..."}`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .. import catalogue, rules
from ..faults import Scope, with_fault
from ..models import Kind, SandboxAccount, SandboxOrder, SandboxRefill
from ..services import close_order, place_order, settle
from .common import account_by_key, amount, json_reply, params, sandbox_endpoint

MAX_IDS = 100
CENT = Decimal("0.01")


def _error(message: str) -> HttpResponse:
    return json_reply({"error": message})


def _ids(p: dict[str, str]) -> list[str]:
    raw = p.get("orders") or p.get("order") or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


def _per_1000(rate: Decimal, quantity: int) -> Decimal:
    return (rate * quantity / 1000).quantize(CENT, rounding=ROUND_HALF_UP)


def _service(account: SandboxAccount, service_id: str) -> dict[str, Any] | None:
    return catalogue.find(catalogue.smm_services(account.catalogue_size), "service", service_id)


def _services(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    return json_reply(catalogue.smm_services(account.catalogue_size))


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
    outcome, remains = rules.smm_outcome(link, quantity)
    refund = charge if outcome in ("Canceled", "Error") else min(_per_1000(rate, remains), charge)
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
    view = rules.smm_view(order, now)
    return {
        "charge": amount(order.cost),
        "start_count": str(view.start_count),
        "status": view.status,
        "remains": str(view.remains),
        "currency": "IDR",
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
    if rules.smm_view(order, now).status not in ("Completed", "Partial"):
        return _error("Order is not completed yet")
    refill = SandboxRefill.objects.create(order=order, created_at=now)
    return json_reply({"refill": str(refill.pk)})


def _refill_status(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    raw = p.get("refill", "")
    refill = SandboxRefill.objects.filter(order__account=account, pk=int(raw)).first() if raw.isdigit() else None
    if refill is None:
        return _error("Incorrect refill ID")
    return json_reply({"status": rules.refill_status(refill.created_at, account.smm_step_seconds, now)})


def _cancel_one(account: SandboxAccount, order: SandboxOrder | None, now: datetime) -> int | dict[str, str]:
    if order is None:
        return {"error": "Incorrect order ID"}
    item = _service(account, order.service_id)
    if item is None or not item["cancel"]:
        return {"error": "Cancel is not available for this service"}
    if rules.smm_view(order, now).status not in ("Pending", "In progress"):
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
    account = account_by_key(Kind.SMM_V2, p.get("key", "") or _bearer(request))
    if account is None:
        return _error("Invalid API key")
    now = timezone.now()
    settle(account, now)
    handler, scope = ACTIONS.get(p.get("action", ""), (None, Scope.OTHER))
    if handler is None:
        return _error("Incorrect request")
    return with_fault(account, scope, lambda: handler(account, p, now))
