"""Refreshing orders from their upstreams (one service for every caller), and expiring stale OTP orders."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from orders.models import EventCode, Order
from orders.services import order_apply_status, order_transition
from orders.submission import release_connection
from providers.adapters.errors import ProviderError, ProviderRejected, held_back
from providers.adapters.types import Capability, ProductKind, Status
from providers.models import Provider
from providers.services import provider_adapter, provider_error_noted

logger = logging.getLogger(__name__)


@dataclass
class RefreshStats:
    checked: int = 0
    changed: int = 0
    finished: int = 0
    upstream_calls: int = 0
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.checked} active orders checked, {self.changed} changed"
        return text + (f", {len(self.errors)} provider errors" if self.errors else "")


def is_stale(order: Order, now: datetime | None = None) -> bool:
    """An active order the upstream can be asked about, not updated for ORDER_REFRESH_STALE_SECONDS."""
    now = now or timezone.now()
    return (
        order.status in (Status.PENDING, Status.PROCESSING)
        and bool(order.external_id)
        and order.kind != ProductKind.SMS  # SMS moves on delivery reports (orders.delivery)
        and (now - order.updated_at).total_seconds() > settings.ORDER_REFRESH_STALE_SECONDS
    )


def orders_refresh(orders: Iterable[Order], *, code: EventCode, stale_only: bool = False) -> RefreshStats:
    """Ask the upstreams about `orders` now: one batched status request per provider (the adapter
    batches: VirtuSIM active_order once, SMM v2 `orders=` in hundreds), and apply what changed, recorded
    with the caller's event `code`. The one refresh path: the worker's tick, an order's page, the API's status calls
    and the OTP expiry all come here.

    `stale_only` (a page or an API client polling): only orders `is_stale`, each at most once per
    ORDER_REFRESH_STALE_SECONDS however many pages and clients poll it. A provider's failure is counted
    in the stats, never raised."""
    stats = RefreshStats()
    now = timezone.now()
    by_provider: dict[int, list[Order]] = defaultdict(list)
    for order in orders:
        if stale_only and not (is_stale(order, now) and _not_asked_lately(order)):
            continue
        if order.status in (Status.PENDING, Status.PROCESSING) and order.external_id:
            by_provider[order.provider_id].append(order)
    providers = {p.pk: p for p in Provider.objects.filter(pk__in=list(by_provider))}
    for provider_id, group in by_provider.items():
        provider = providers[provider_id]
        stats.checked += len(group)
        try:
            adapter = provider_adapter(provider)
            release_connection()  # this thread waits on the upstream without a database connection
            results = adapter.fetch_statuses([o.external_id for o in group])
        except ProviderError as exc:
            stats.errors.append(f"{provider}: {exc}")
            if held_back(exc):  # our own guard said no: nothing to show the operator about the provider
                logger.info("refresh at %s held back: %s", provider, exc)
            else:  # e.g. a reply in another currency (smm_v2), refused credentials: the admin shows it
                provider_error_noted(provider, exc)
            continue
        stats.upstream_calls += 1
        by_id = {r.external_id: r for r in results}
        for order in group:
            result = by_id.get(order.external_id)
            before = order.status
            if result is not None and order_apply_status(order, result, code=code):
                stats.changed += 1
                stats.finished += int(order.is_final)
                stats.changes.append(f"#{order.pk} {order.kind}: {before} -> {order.status}")
    return stats


def _not_asked_lately(order: Order) -> bool:
    """Claims the order's refresh slot (shared by every process through the cache)."""
    key = f"order-refresh:{order.pk}:{order.created_at.timestamp()}"
    return cache.add(key, 1, timeout=settings.ORDER_REFRESH_STALE_SECONDS)


def refresh_tick(provider_ids: list[int] | None = None) -> RefreshStats:
    """The worker's pass over every active order (only changed orders are written)."""
    active = (
        Order.objects.filter(status__in=[Status.PENDING, Status.PROCESSING])
        .exclude(kind=ProductKind.SMS)  # SMS moves on delivery reports (orders.delivery)
        .exclude(external_id="")
        .select_related("service")
        .order_by("id")
    )
    if provider_ids is not None:
        active = active.filter(provider_id__in=provider_ids)
    return orders_refresh(active, code=EventCode.REFRESH)


def otp_expire(now=None) -> int:
    """OTP orders with no code after OTP_EXPIRY_MINUTES are cancelled upstream and refunded; those with
    a code are marked done. Returns how many orders were finished."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.OTP_EXPIRY_MINUTES)
    finished = 0
    due = (
        Order.objects.filter(
            kind=ProductKind.OTP, status__in=[Status.PENDING, Status.PROCESSING], created_at__lt=cutoff
        )
        .exclude(external_id="")
        .select_related("provider")
    )
    for order in due:
        adapter = provider_adapter(order.provider)
        try:
            if order.otp_code:
                if adapter.has(Capability.DONE):
                    adapter.done(order.external_id)
                finished += order_transition(
                    order, to=Status.COMPLETED, code=EventCode.OTP_EXPIRED, reason="code received"
                )
                continue
            result = adapter.cancel(order.external_id)
        except ProviderRejected as exc:
            # Refused (e.g. "Gagal Cancel": a code just arrived, or it is gone upstream): ask what it is now.
            logger.info("OTP expiry: cancel of order %s refused: %s", order.pk, exc)
            finished += refresh_order(order, code=EventCode.OTP_EXPIRED)
            continue
        except ProviderError as exc:
            logger.warning("OTP expiry: order %s: %s (will retry)", order.pk, exc)
            continue
        if result.ok:
            finished += order_transition(order, to=Status.CANCELED, code=EventCode.OTP_EXPIRED, reason="no code")
        else:
            finished += refresh_order(order, code=EventCode.OTP_EXPIRED)
    return finished


def refresh_order(order: Order, *, code: EventCode) -> int:
    """Ask the upstream about one order now. Returns 1 if it became final."""
    if order.is_final or not order.external_id or order.kind == ProductKind.SMS:
        return 0
    return orders_refresh([order], code=code).finished
