"""Reconciliation of orders whose placement reply was lost (`unknown`).

Where the protocol can list recent upstream orders (Osimesa: latest transactions; VirtuSIM: active
orders), an unknown order is matched to exactly one unclaimed upstream order of the same product and
target and takes its id and status (a failed one is refunded). Where it cannot, the order stays
`unknown` for an operator (admin: resolve as placed / as failed). Never refunds on a guess.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from orders.models import EventCode, Order
from orders.services import order_transition
from orders.submission import submissions_sweep
from providers.adapters.errors import ProviderError
from providers.adapters.types import Capability, Status, StatusResult
from providers.models import Provider
from providers.services import provider_adapter

logger = logging.getLogger(__name__)
MATCH_WINDOW = timedelta(minutes=30)


@dataclass
class ReconcileStats:
    stale: int = 0
    matched: int = 0
    left: int = 0

    def __str__(self) -> str:
        return f"{self.stale} stale submissions marked unknown, {self.matched} matched, {self.left} left for operators"


def _matches(order: Order, candidate: StatusResult) -> bool:
    if candidate.created_at and abs(candidate.created_at - order.created_at) > MATCH_WINDOW:
        return False
    if order.kind == "prepaid":
        same_product = candidate.service_id == order.service.external_id
        return same_product and "".join(ch for ch in candidate.number if ch.isdigit()) == order.target
    if order.kind == "otp":
        name = str(candidate.raw.get("service_name") or candidate.service_id or "")
        return name in (order.service.name, order.service.external_id)
    return False


def reconcile_unknown(now=None) -> ReconcileStats:
    now = now or timezone.now()
    stats = ReconcileStats()
    # A send interrupted midway becomes unknown here too; an accepted order still waiting in the queue was
    # never sent, so it is left to the submitter however old it is.
    stats.stale = submissions_sweep(now)["interrupted"]
    unknown: dict[int, list[Order]] = defaultdict(list)
    for order in Order.objects.filter(status=Status.UNKNOWN, external_id="").select_related("service").order_by("id"):
        unknown[order.provider_id].append(order)
    for provider in Provider.objects.filter(pk__in=list(unknown)):
        orders = unknown[provider.pk]
        adapter = provider_adapter(provider)
        if not adapter.has(Capability.RECENT_ORDERS):
            stats.left += len(orders)
            continue
        try:
            candidates = adapter.recent_orders(15)
        except ProviderError as exc:
            logger.warning("reconcile: %s: %s", provider, exc)
            stats.left += len(orders)
            continue
        claimed = set(
            Order.objects.filter(provider=provider, external_id__in=[c.external_id for c in candidates]).values_list(
                "external_id", flat=True
            )
        )
        found = {o.pk: [c for c in candidates if c.external_id not in claimed and _matches(o, c)] for o in orders}
        claimants: dict[str, int] = defaultdict(int)
        for matches in found.values():
            for candidate in matches:
                claimants[candidate.external_id] += 1
        for order in orders:
            # Attach only an unambiguous pair: one candidate for this order, and no other order wanting it.
            if len(found[order.pk]) != 1 or claimants[found[order.pk][0].external_id] != 1:
                stats.left += 1
                continue
            match = found[order.pk][0]
            to = match.status if match.status not in (Status.UNKNOWN, Status.SUBMITTING) else Status.PENDING
            fields = {"external_id": match.external_id[:100], "raw_status": match.raw_status[:60], "error": ""}
            if match.voucher:
                fields["voucher"] = match.voucher[:255]
            if match.number and order.kind == "otp":
                fields["target"] = match.number
            if order_transition(
                order, to=to, code=EventCode.RECONCILED, reason=f"upstream order {match.external_id}", **fields
            ):
                claimed.add(match.external_id)
                stats.matched += 1
    return stats
