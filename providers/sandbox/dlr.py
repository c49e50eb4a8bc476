"""Delivery-report callbacks, sent by a few daemon threads when they fall due.

Each vendor's protocol module says how a report is sent (`SandboxProtocol.delivery_report`: RajaSMS
POSTs JSON to the request's `callbackurl`; masking_http GETs the registered `callback_url`). Timers are
armed after the order commits; a sweep on every SMS request re-arms reports whose timer was lost
(restart) or was too far away to queue.
A guarded claim (`pending` -> `sending`) makes sure each report is sent at most once. Nothing here
ever raises into a request.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from datetime import datetime

import requests
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from .models import DlrState, SandboxAccount, SandboxOrder

logger = logging.getLogger("providers.sandbox.dlr")

TIMEOUT = (3.0, 5.0)  # connect, read
MAX_TIMER_SECONDS = 3600  # later reports are left to the sweep
SENDERS = 8  # reports in flight at once from this process
WRITE_ATTEMPTS = 5


def deliver(order_id: int) -> bool:
    """Send one due report now; records the result on the order. True when the receiver took it."""
    if not SandboxOrder.objects.filter(pk=order_id, dlr_state=DlrState.PENDING).update(dlr_state=DlrState.SENDING):
        return False  # already sent, or another thread has it
    try:
        return _send(order_id)
    except Exception:
        # Never leave a report in "sending": hand it back to the sweep for another try.
        logger.exception("sandbox DLR for order %s could not be sent; back to pending", order_id)
        _write(order_id, DlrState.SENDING, dlr_state=DlrState.PENDING)
        return False


def _write(order_id: int, state: str, **fields) -> None:
    """Record a report's outcome. SQLite (the demo, the tests' shared in-memory database) refuses a write at
    once while another connection reads the table ("database table is locked"): a few short retries."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            SandboxOrder.objects.filter(pk=order_id, dlr_state=state).update(**fields)
            return
        except OperationalError:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _send(order_id: int) -> bool:
    order = SandboxOrder.objects.select_related("account").get(pk=order_id)
    status: int | None = None
    error = ""
    try:
        report = order.account.protocol.delivery_report(order)
        if report.method == "POST":
            response = requests.post(order.callback_url, json=report.payload, timeout=TIMEOUT)
        else:
            response = requests.get(order.callback_url, params=report.payload, timeout=TIMEOUT)
        status = response.status_code
        if status >= 400:
            error = f"HTTP {status}"
    except requests.RequestException as exc:
        error = str(exc)[:300]
    _write(
        order_id,
        DlrState.SENDING,
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


class _Sender:
    """Due reports, sent by at most SENDERS threads of this process, earliest first. A gateway pushes its
    reports from a few connections; a thread per report (1,000 at once for one bulk send) would instead
    open 1,000 connections at the very server the panel runs on (`make demo`), overflowing its accept
    queue and starving every page of that process."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int]] = []  # (due, order id), a heap
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []

    def add(self, order_id: int, when: float) -> None:
        with self._ready:
            heapq.heappush(self._queue, (when, order_id))
            self._ready.notify()
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            if len(self._threads) < SENDERS:
                thread = threading.Thread(target=self._work, name="sandbox-dlr", daemon=True)
                self._threads.append(thread)
                thread.start()

    def clear(self) -> int:
        with self._ready:
            dropped = len(self._queue)
            self._queue.clear()
            return dropped

    def _next(self) -> int:
        with self._ready:
            while True:
                if self._queue:
                    wait = self._queue[0][0] - time.time()
                    if wait <= 0:
                        return heapq.heappop(self._queue)[1]
                    self._ready.wait(timeout=min(wait, 1.0))
                else:
                    self._ready.wait(timeout=1.0)

    def _work(self) -> None:
        while True:
            order_id = self._next()
            try:
                _run(order_id)
            except Exception:  # e.g. closing a connection that is gone: this sender goes on with the next
                logger.exception("sandbox DLR sender: report %s", order_id)


_sender = _Sender()


def _arm(order_id: int, due: datetime) -> None:
    if (due - timezone.now()).total_seconds() > MAX_TIMER_SECONDS:
        return
    _sender.add(order_id, due.timestamp())


def cancel_pending() -> int:
    """Drop the reports not sent yet (tests call it between tests; their reports stay pending in the
    database for the sweep). Returns how many were dropped."""
    return _sender.clear()


def _run(order_id: int) -> None:
    try:
        deliver(order_id)
    except Exception:  # a callback must never take anything down with it
        logger.exception("sandbox DLR for order %s crashed", order_id)
    finally:
        connection.close()  # this thread's own connection
