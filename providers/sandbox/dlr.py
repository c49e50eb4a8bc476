"""Delivery-report callbacks, sent from daemon timer threads.

RajaSMS POSTs JSON to the request's `callbackurl`; masking_http GETs the account's registered
`callback_url` with query parameters. Timers are armed after the order commits; a sweep on every
SMS request re-arms reports whose timer was lost (restart) or was too far away to hold a thread for.
A guarded claim (`pending` -> `sending`) makes sure each report is sent at most once. Nothing here
ever raises into a request.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import requests
from django.db import connection, transaction
from django.utils import timezone

from . import rules
from .models import DlrState, Kind, SandboxAccount, SandboxOrder

logger = logging.getLogger("providers.sandbox.dlr")

TIMEOUT = (3.0, 5.0)  # connect, read
MAX_TIMER_SECONDS = 3600  # later reports are left to the sweep
_TIMERS: set[threading.Timer] = set()  # armed in this process, for cancel_pending()


def payload(order: SandboxOrder) -> dict[str, str | int]:
    if order.account.kind == Kind.RAJASMS:
        code = int(order.outcome)
        return {
            "sendingid": int(order.external_id),
            "number": order.target,
            "deliverystatus": code,
            "deliverystatustext": rules.RAJASMS_DELIVERY_TEXT[code],
        }
    return {
        "session_id": order.external_id,
        "error_code": order.outcome,
        "error_message": rules.MASKING_DLR_TEXT[order.outcome],
        "msisdn": order.target,
    }


def deliver(order_id: int) -> bool:
    """Send one due report now; records the result on the order. True when the receiver took it."""
    if not SandboxOrder.objects.filter(pk=order_id, dlr_state=DlrState.PENDING).update(dlr_state=DlrState.SENDING):
        return False  # already sent, or another thread has it
    try:
        return _send(order_id)
    except Exception:
        # Never leave a report in "sending": hand it back to the sweep for another try.
        logger.exception("sandbox DLR for order %s could not be sent; back to pending", order_id)
        SandboxOrder.objects.filter(pk=order_id, dlr_state=DlrState.SENDING).update(dlr_state=DlrState.PENDING)
        return False


def _send(order_id: int) -> bool:
    order = SandboxOrder.objects.select_related("account").get(pk=order_id)
    status: int | None = None
    error = ""
    try:
        if order.account.kind == Kind.RAJASMS:
            response = requests.post(order.callback_url, json=payload(order), timeout=TIMEOUT)
        else:
            response = requests.get(order.callback_url, params=payload(order), timeout=TIMEOUT)
        status = response.status_code
        if status >= 400:
            error = f"HTTP {status}"
    except requests.RequestException as exc:
        error = str(exc)[:300]
    SandboxOrder.objects.filter(pk=order_id).update(
        dlr_state=DlrState.FAILED if error else DlrState.SENT,
        dlr_sent_at=timezone.now(),
        dlr_http_status=status,
        dlr_error=error,
    )
    if error:
        logger.warning("sandbox DLR for %s to %s failed: %s", order.external_id, order.callback_url, error)
    return not error


def schedule(order_id: int, due: datetime) -> None:
    """Arm a timer once the current transaction commits (never, if it rolls back)."""
    transaction.on_commit(lambda: _arm(order_id, due))


def sweep(account: SandboxAccount, now: datetime) -> None:
    """Re-arm reports that are due but still pending (lost timer, or too far ahead for one)."""
    for order_id, due in SandboxOrder.objects.filter(
        account=account, dlr_state=DlrState.PENDING, dlr_at__lte=now
    ).values_list("pk", "dlr_at"):
        schedule(order_id, due)


def _arm(order_id: int, due: datetime) -> None:
    delay = max(0.0, (due - timezone.now()).total_seconds())
    if delay > MAX_TIMER_SECONDS:
        return
    timer = threading.Timer(delay, _run, args=(order_id,))
    timer.daemon = True
    _TIMERS.add(timer)
    timer.start()


def cancel_pending() -> int:
    """Cancel the timers not fired yet (tests call it between tests; their reports stay pending in the
    database for the sweep). Returns how many were cancelled."""
    cancelled = 0
    for timer in list(_TIMERS):
        _TIMERS.discard(timer)
        if timer.is_alive() and not timer.finished.is_set():
            timer.cancel()
            cancelled += 1
    return cancelled


def _run(order_id: int) -> None:
    try:
        deliver(order_id)
    except Exception:  # a callback must never take anything down with it
        logger.exception("sandbox DLR for order %s crashed", order_id)
    finally:
        connection.close()  # this thread's own connection
