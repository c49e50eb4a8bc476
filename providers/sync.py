"""Catalogue sync: upsert an upstream's services in bulk.

Query budget, whatever the catalogue size: one read of the provider's existing rows, then inserts,
updates and disables in batches. A sync that finds nothing changed writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from providers.adapters.errors import ProviderError
from providers.adapters.types import Capability, ServiceInfo
from providers.models import Provider, Service
from providers.pricing import pricing_refresh
from providers.services import provider_adapter, sms_routes_ensure

logger = logging.getLogger(__name__)

COST_PLACES = Decimal("0.0001")
SYNCED_FIELDS = (
    "name",
    "category",
    "kind",
    "cost",
    "min_qty",
    "max_qty",
    "stock",
    "in_stock",
    "can_refill",
    "can_cancel",
    "cutoff_start",
    "cutoff_end",
    "description",
    "service_type",
    "multi",
    "product_type",
    "upstream_updated_at",
    "price_levels",
    "raw",
    "is_active",
)
BATCH = 1000


@dataclass(frozen=True)
class SyncResult:
    created: int = 0
    updated: int = 0
    disabled: int = 0
    unchanged: int = 0
    skipped: int = 0  # upstream items that could not be stored (logged)

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.disabled} disabled, {self.unchanged} unchanged"
        return text + (f", {self.skipped} skipped" if self.skipped else "")


def _row(item: ServiceInfo) -> dict[str, Any]:
    min_qty = max(int(item.min_qty or 1), 0)
    return {
        "name": item.name[:255] or item.external_id,
        "category": item.category[:150],
        "kind": item.kind.value,
        "cost": item.cost.quantize(COST_PLACES),
        "min_qty": min_qty,
        "max_qty": max(int(item.max_qty or min_qty), min_qty),
        "stock": item.stock,
        "in_stock": item.in_stock,
        "can_refill": item.can_refill,
        "can_cancel": item.can_cancel,
        "cutoff_start": item.cutoff_start,
        "cutoff_end": item.cutoff_end,
        "description": item.description,
        "service_type": item.service_type[:50],
        "multi": item.multi,
        "product_type": item.product_type[:60],
        "upstream_updated_at": item.upstream_updated_at,
        "price_levels": {level: str(price.quantize(COST_PLACES)) for level, price in item.price_levels.items()},
        "raw": dict(item.raw),
        "is_active": True,
    }


def _valid(item: ServiceInfo) -> bool:
    if not item.external_id or len(item.external_id) > 100 or item.cost < 0:
        logger.warning("catalogue sync: skipping upstream item %r (cost %s)", item.external_id, item.cost)
        return False
    return True


def catalogue_apply(provider: Provider, items: Iterable[ServiceInfo], *, now: datetime | None = None) -> SyncResult:
    """Upsert `items` as the provider's whole catalogue; items no longer offered are disabled."""
    now = now or timezone.now()
    incoming: dict[str, dict[str, Any]] = {}
    skipped = 0
    for item in items:
        if _valid(item):
            incoming[item.external_id] = _row(item)
        else:
            skipped += 1

    existing = {
        row[0]: row
        for row in Service.objects.filter(provider=provider).values_list("external_id", "pk", *SYNCED_FIELDS)
    }
    to_create: list[Service] = []
    to_update: list[Service] = []
    changed_fields: set[str] = set()
    unchanged = 0
    for external_id, values in incoming.items():
        current = existing.get(external_id)
        if current is None:
            to_create.append(Service(provider=provider, external_id=external_id, synced_at=now, **values))
            continue
        old = dict(zip(SYNCED_FIELDS, current[2:], strict=True))
        diff = {name for name, value in values.items() if old[name] != value}
        if diff:
            changed_fields |= diff
            to_update.append(Service(pk=current[1], synced_at=now, **values))
        else:
            unchanged += 1

    # SMS routes are made by the operator, not by the upstream: a sync never disables them.
    keep = set(provider.sms_routes)
    vanished = [
        row[1]
        for external_id, row in existing.items()
        if external_id not in incoming and external_id not in keep and row[2 + SYNCED_FIELDS.index("is_active")]
    ]

    with transaction.atomic():
        Service.objects.bulk_create(to_create, batch_size=BATCH)
        if to_update:
            Service.objects.bulk_update(to_update, sorted(changed_fields | {"synced_at"}), batch_size=BATCH // 2)
        for start in range(0, len(vanished), BATCH):
            Service.objects.filter(pk__in=vanished[start : start + BATCH]).update(is_active=False, synced_at=now)
        if to_create or to_update or vanished:
            pricing_refresh([service.pk for service in to_create + to_update] + vanished)
        summary = SyncResult(len(to_create), len(to_update), len(vanished), unchanged, skipped)
        Provider.objects.filter(pk=provider.pk).update(
            last_synced_at=now, last_sync_result=str(summary)[:300], last_error=""
        )
    return summary


def catalogue_sync(provider: Provider) -> SyncResult:
    """Fetch the provider's catalogue and apply it. SMS gateways have none: their routes stay as they are.
    Raises ProviderError (and records it on the provider) when the upstream fails."""
    adapter = provider_adapter(provider)
    if not adapter.has(Capability.SERVICES):
        routes = sms_routes_ensure(provider)
        return SyncResult(unchanged=len(routes))
    try:
        items = adapter.fetch_services()
    except ProviderError as exc:
        Provider.objects.filter(pk=provider.pk).update(last_error=str(exc)[:500])
        raise
    return catalogue_apply(provider, items)
