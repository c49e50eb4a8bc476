"""The submitter: the worker task that sends accepted orders to their providers (ARCHITECTURE: Orders).

One run at a time holds a lease (a row in WorkerLease, renewed as it goes), so kicks that arrive while it
runs cost one read. The run gives every provider its own lane, a pool of up to SUBMIT_CONCURRENCY threads
sending that provider's orders: a provider answering in 3 s keeps its own lane busy and no other. A
provider whose breaker is open is skipped (its orders wait; after SUBMIT_GIVE_UP_MINUTES they are failed
and refunded, never having been sent); a half-open one gets a single trial order.

A run claims orders while its budget lasts (Q_TIMEOUT less the longest call, so the worker is never
stopped mid-call), lingers a moment for orders accepted meanwhile, releases the lease, and looks once
more: an order committed while it was finishing is taken by this run or by the kick it woke.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connections
from django.db.models import Q
from django.utils import timezone

from orders.models import Order, WorkerLease
from orders.submission import (
    DEFERRED,
    FAILED,
    new_claim,
    order_submit,
    orders_claim,
    orders_give_up,
)
from providers.adapters.guard import HALF_OPEN, OPEN, patience
from providers.adapters.types import Status
from providers.models import Provider
from providers.services import provider_guard

logger = logging.getLogger(__name__)

LEASE = "submitter"
LEASE_SECONDS = 30
LINGER_SECONDS = 2.0
POLL_SECONDS = 0.2
KICK_KEY = "orders:submitter:kick"


# --- waking it ---------------------------------------------------------------------------------------
def kick(force: bool = False) -> None:
    """Queue a submitter run, at most one a second from this process (a run lingers longer than that,
    so an order whose kick was swallowed is picked up by the run the earlier kick queued)."""
    if force or cache.add(KICK_KEY, 1, timeout=1):
        from django_q.tasks import async_task

        async_task("orders.tasks.submit_orders", task_name="submit orders")


# --- the lease ---------------------------------------------------------------------------------------
def lease_acquire(holder: str, seconds: int = LEASE_SECONDS) -> bool:
    now = timezone.now()
    if not WorkerLease.objects.filter(name=LEASE).exists():
        try:
            WorkerLease.objects.create(name=LEASE, holder="", expires_at=now - timedelta(seconds=1))
        except IntegrityError:
            pass  # created by another run just now
    return bool(
        WorkerLease.objects.filter(Q(expires_at__lt=now) | Q(holder=holder), name=LEASE).update(
            holder=holder, expires_at=now + timedelta(seconds=seconds)
        )
    )


def lease_release(holder: str) -> None:
    WorkerLease.objects.filter(name=LEASE, holder=holder).update(expires_at=timezone.now() - timedelta(seconds=1))


# --- one run -----------------------------------------------------------------------------------------
@dataclass
class SubmitStats:
    outcomes: Counter = field(default_factory=Counter)
    busy: bool = False  # another run held the lease
    again: bool = False  # the budget ran out with orders left: another run was queued

    @property
    def sent(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != DEFERRED)

    def __str__(self) -> str:
        if self.busy:
            return "another submitter is running"
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items())) or "nothing to send"
        return parts + ("; more queued" if self.again else "")


def _budget() -> float:
    """Seconds a run may keep claiming: the task timeout less the longest call and a margin."""
    longest = settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT
    return max(float(settings.Q_CLUSTER.get("timeout", 90)) - longest - 10, 5.0)


def _providers_waiting() -> list[int]:
    return list(
        Order.objects.filter(status=Status.SUBMITTING, submit_claim="")
        .order_by()
        .values_list("provider_id", flat=True)
        .distinct()
    )


def _sendable() -> bool:
    """Orders wait for a provider this process may call now. Those of a provider whose breaker is open are
    left to the every-minute schedule, so a run never spins on them (nor queues the next run for them)."""
    waiting = _providers_waiting()
    return any(provider_guard(p).state != OPEN for p in Provider.objects.filter(pk__in=waiting))


def _send(order_id: int, claim: str) -> str:
    """One order in a lane thread: its own database connection, closed (or given back to the pool) after."""
    try:
        order = Order.objects.select_related("service", "provider").filter(pk=order_id, submit_claim=claim).first()
        if order is None or order.status != Status.SUBMITTING:
            return "gone"
        with patience(settings.PROVIDER_READ_TIMEOUT):  # a fallback SMS route may wait for a slot
            return order_submit(order)
    except Exception:
        logger.exception("submitting order %s crashed; the sweep will settle it", order_id)
        return "crashed"
    finally:
        connections.close_all()


def submit_orders(budget: float | None = None, linger: float = LINGER_SECONDS) -> SubmitStats:
    """Send every accepted order, each provider in its own lane; see the module docstring."""
    stats = SubmitStats()
    holder = new_claim()
    if not lease_acquire(holder):
        stats.busy = True
        return stats
    deadline = time.monotonic() + (budget if budget is not None else _budget())
    lanes: dict[int, ThreadPoolExecutor] = {}
    in_flight: dict[int, set[Future]] = defaultdict(set)
    try:
        while True:
            _run(stats, holder, deadline, linger, lanes, in_flight)
            lease_release(holder)
            if time.monotonic() >= deadline:
                if _sendable():
                    stats.again = True
                    kick(force=True)
                break
            # Anything committed while this run was finishing? Take it, unless a newer run already has.
            if not _sendable() or not lease_acquire(holder):
                break
    finally:
        for lane in lanes.values():
            lane.shutdown(wait=True)
        lease_release(holder)
    return stats


def _run(
    stats: SubmitStats,
    holder: str,
    deadline: float,
    linger: float,
    lanes: dict[int, ThreadPoolExecutor],
    in_flight: dict[int, set[Future]],
) -> None:
    concurrency = max(settings.SUBMIT_CONCURRENCY, 1)
    idle_since = time.monotonic()
    renewed = time.monotonic()
    providers: dict[int, Provider] = {}
    paused: dict[int, float] = {}  # provider -> not before (its last order was held back by the guard)
    while True:
        claimed = 0
        if time.monotonic() < deadline:
            for provider_id in _providers_waiting():
                if paused.get(provider_id, 0) > time.monotonic():
                    continue
                provider = providers.get(provider_id) or providers.setdefault(
                    provider_id, Provider.objects.get(pk=provider_id)
                )
                state = provider_guard(provider).state
                if state == OPEN:
                    given_up = orders_give_up(provider_id, holder)
                    if given_up:
                        stats.outcomes[FAILED] += given_up
                    continue
                limit = 1 if state == HALF_OPEN else concurrency
                free = limit - len(in_flight[provider_id])
                lane = lanes.get(provider_id) or lanes.setdefault(
                    provider_id, ThreadPoolExecutor(concurrency, thread_name_prefix=f"submit-{provider_id}")
                )
                for order in orders_claim(provider_id, free, holder):
                    in_flight[provider_id].add(lane.submit(_send, order.pk, holder))
                    claimed += 1
        futures = [f for group in in_flight.values() for f in group]
        if futures:
            done, _pending = wait(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for provider_id, group in in_flight.items():
                for future in done & group:
                    outcome = future.result()
                    stats.outcomes[outcome] += 1
                    if outcome == DEFERRED:
                        paused[provider_id] = time.monotonic() + 1.0
                group -= done
        elif not claimed:
            if time.monotonic() - idle_since >= linger or time.monotonic() >= deadline:
                return
            time.sleep(POLL_SECONDS)
        if futures or claimed:
            idle_since = time.monotonic()
        if time.monotonic() - renewed > LEASE_SECONDS / 3:
            lease_acquire(holder)
            renewed = time.monotonic()


def submit_pending() -> SubmitStats:
    """Send every accepted order now, one after another in this thread (a command, and the test suite's
    stand-in for the worker: it sees the caller's uncommitted data)."""
    stats = SubmitStats()
    holder = new_claim()
    for provider_id in _providers_waiting():
        for order in orders_claim(provider_id, 10_000, holder):
            stats.outcomes[order_submit(order)] += 1
    return stats
