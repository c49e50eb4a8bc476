"""Writes on sandbox state: accepting orders against the balance, closing them, refunds, demo accounts.

Balance changes are guarded single-statement updates (`balance >= cost`), so concurrent requests
served by threads can never overdraw an account or refund one order twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from .models import SandboxAccount, SandboxOrder


def sandbox_base_url(kind: str, root: str) -> str:
    """The `Provider.base_url` that points a provider of this kind at the sandbox under `root`."""
    from .protocols import protocol_of  # the protocol modules import this one

    return f"{root.rstrip('/')}/sandbox/{protocol_of(kind).base_path}"


def place_order(account: SandboxAccount, cost: Decimal, **fields: Any) -> SandboxOrder | None:
    """Charge `cost` and record the order in one transaction; None when the balance is too low."""
    with transaction.atomic():
        charged = SandboxAccount.objects.filter(pk=account.pk, balance__gte=cost).update(balance=F("balance") - cost)
        if not charged:
            return None
        order = SandboxOrder.objects.create(account=account, cost=cost, **fields)
        order.external_id = account.protocol.external_id(order.pk)
        order.save(update_fields=["external_id"])
    account.refresh_from_db(fields=["balance"])
    return order


def close_order(order: SandboxOrder, status: str, refund: Decimal, now: datetime, **fields: Any) -> bool:
    """An explicit end (cancel, done) decided by the client; refunds `refund` at once. False if it
    was already closed or refunded (a concurrent request won)."""
    closed = SandboxOrder.objects.filter(pk=order.pk, closed_status="", refunded_at__isnull=True).update(
        closed_status=status, final_at=now, refund=refund, **fields
    )
    if closed:
        settle(order.account, now)
        order.refresh_from_db()
    return bool(closed)


def settle(account: SandboxAccount, now: datetime) -> None:
    """Pay back what orders that have become final are owed (failed, canceled, partial, no charge).

    Called lazily before every authenticated reply, so balances are right without a worker.
    """
    due = SandboxOrder.objects.filter(
        account=account, refund__gt=0, refunded_at__isnull=True, final_at__lte=now
    ).values_list("pk", "refund")
    for pk, refund in due:
        with transaction.atomic():
            if SandboxOrder.objects.filter(pk=pk, refunded_at__isnull=True).update(refunded_at=now):
                SandboxAccount.objects.filter(pk=account.pk).update(balance=F("balance") + refund)
    account.refresh_from_db(fields=["balance"])


def ensure_demo_accounts(base_root_url: str, masking_callback_path: str = "") -> dict[str, SandboxAccount]:
    """One sandbox account per kind (created with random credentials if missing), keyed by kind.

    `masking_callback_path` (e.g. the panel's reversed callback path) is joined to `base_root_url`
    and registered as the masking_http DLR URL. Point Providers at `sandbox_base_url(kind, root)`.
    """
    from .protocols import PROTOCOLS  # the protocol modules import this one

    accounts: dict[str, SandboxAccount] = {}
    for kind, protocol in PROTOCOLS.items():
        account = SandboxAccount.objects.filter(kind=kind, name=f"demo-{kind}").first()
        if account is None:
            account = SandboxAccount.objects.create(
                kind=kind, name=f"demo-{kind}", balance=protocol.demo_balance, **protocol.demo_credentials()
            )
        if protocol.registered_callback and masking_callback_path:
            url = base_root_url.rstrip("/") + "/" + masking_callback_path.lstrip("/")
            if account.callback_url != url:
                account.callback_url = url
                account.save(update_fields=["callback_url"])
        accounts[kind] = account
    return accounts
