"""The refresh tick: ask each upstream about its active orders (batched), and expire stale OTP orders."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from orders.models import Order
from orders.services import order_apply_status, order_transition
from orders.submission import release_connection
from providers.adapters.errors import ProviderError, ProviderRejected
from providers.adapters.types import Capability, ProductKind, Status
from providers.models import Provider
from providers.services import provider_adapter

logger = logging.getLogger(__name__)


@dataclass
class RefreshStats:
    checked: int = 0
    changed: int = 0
    upstream_calls: int = 0
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.checked} active orders checked, {self.changed} changed"
        return text + (f", {len(self.errors)} provider errors" if self.errors else "")


def refresh_tick(provider_ids: list[int] | None = None) -> RefreshStats:
    """One pass over active orders: one batched status request per provider (the adapter batches:
    VirtuSIM active_order once, SMM v2 `orders=` in hundreds). Only changed orders are written."""
    stats = RefreshStats()
    active = (
        Order.objects.filter(status__in=[Status.PENDING, Status.PROCESSING])
        .exclude(kind=ProductKind.SMS)  # SMS moves on delivery reports (orders.delivery)
        .exclude(external_id="")
        .select_related("service")
        .order_by("id")
    )
    if provider_ids is not None:
        active = active.filter(provider_id__in=provider_ids)
    by_provider: dict[int, list[Order]] = defaultdict(list)
    for order in active:
        by_provider[order.provider_id].append(order)
    for provider in Provider.objects.filter(pk__in=list(by_provider)):
        orders = by_provider[provider.pk]
        stats.checked += len(orders)
        try:
            results = provider_adapter(provider).fetch_statuses([o.external_id for o in orders])
        except ProviderError as exc:
            stats.errors.append(f"{provider}: {exc}")
            logger.warning("refresh of %s failed: %s", provider, exc)
            continue
        stats.upstream_calls += 1
        by_id = {r.external_id: r for r in results}
        for order in orders:
            result = by_id.get(order.external_id)
            before = order.status
            if result is not None and order_apply_status(order, result):
                stats.changed += 1
                stats.changes.append(f"#{order.pk} {order.kind}: {before} -> {order.status}")
    return stats


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
                finished += order_transition(order, to=Status.COMPLETED, reason="OTP window over (code received)")
                continue
            result = adapter.cancel(order.external_id)
        except ProviderRejected as exc:
            # Refused (e.g. "Gagal Cancel": a code just arrived, or it is gone upstream): ask what it is now.
            logger.info("OTP expiry: cancel of order %s refused: %s", order.pk, exc)
            finished += refresh_order(order)
            continue
        except ProviderError as exc:
            logger.warning("OTP expiry: order %s: %s (will retry)", order.pk, exc)
            continue
        if result.ok:
            finished += order_transition(order, to=Status.CANCELED, reason="OTP window over without a code")
        else:
            finished += refresh_order(order)
    return finished


def refresh_order(order: Order) -> int:
    """Ask the upstream about one order now (e.g. while its page is open). Returns 1 if it became final."""
    if order.is_final or not order.external_id or order.kind == ProductKind.SMS:
        return 0
    try:
        adapter = provider_adapter(order.provider)
        release_connection()  # the page's thread waits on the upstream without a database connection
        results = adapter.fetch_statuses([order.external_id])
    except ProviderError:
        return 0
    for result in results:
        if result.external_id == order.external_id and order_apply_status(order, result, reason="after expiry"):
            return int(order.is_final)
    return 0
