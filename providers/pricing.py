"""Markup pricing and the margin guard.

A sell price per reseller tier is kept for every service in `ServicePrice`, computed from the
service's upstream cost by the most specific active `MarkupRule`:

    service  >  category of one provider  >  category  >  provider  >  global

and, within one scope, a rule for the tier beats a rule for all tiers (equal rules: the oldest wins).
The margin guard: a price that does not exceed its cost (a negative markup, a fixed price below cost,
an upstream price rise) is stored with `on_sale=False` and listed by `off_sale_services()`, so nothing
is sold at a loss. `pricing_refresh` is called after every catalogue change and every rule change.

Query budget, whatever the catalogue size: one read each of tiers, rules, services and existing prices
(in chunks only beyond the database's parameter limit), then upserts of the changed rows only. A refresh
that finds nothing changed writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Tier
from accounts.money import CENT, ZERO, ceil_to_step, floor_money
from providers.models import MarkupRule, Service, ServicePrice

# Written per ServicePrice row: service, tier, price, on_sale, rule, updated_at.
_ROW_PARAMS = 6
_MAX_PARAMS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535 bind parameters


class PriceRule(Protocol):
    percent: Decimal
    fixed: Decimal
    rounding_step: Decimal
    fixed_price: Decimal | None


@dataclass(frozen=True)
class PricingResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0  # rows of tiers that no longer exist
    unchanged: int = 0
    off_sale: int = 0  # refreshed services that are offered but priced at or below cost for some tier

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def __str__(self) -> str:
        return f"{self.changed} prices updated, {self.off_sale} services off sale"


def sell_price(cost: Decimal, rule: PriceRule) -> Decimal:
    """The rule's price per unit for `cost`: the fixed price if set, else cost x (1 + percent/100) + fixed,
    rounded up to the rule's step (0 or 1: whole Rupiah). Two decimals; never negative."""
    if rule.fixed_price is not None:
        price = ceil_to_step(Decimal(rule.fixed_price), CENT)
    else:
        raw = Decimal(cost) * (1 + Decimal(rule.percent) / 100) + Decimal(rule.fixed)
        price = ceil_to_step(raw, Decimal(rule.rounding_step))
    return max(price, ZERO)


class _RuleIndex:
    """Active rules by target, for resolution without a query per service."""

    def __init__(self, rules: Iterable[MarkupRule]) -> None:
        self.by_service: dict[int, dict[int | None, MarkupRule]] = {}
        self.by_category_provider: dict[tuple[str, int], dict[int | None, MarkupRule]] = {}
        self.by_category: dict[str, dict[int | None, MarkupRule]] = {}
        self.by_provider: dict[int, dict[int | None, MarkupRule]] = {}
        self.by_global: dict[int | None, MarkupRule] = {}
        for rule in sorted(rules, key=lambda r: r.pk):  # setdefault: the oldest of equal rules wins
            if rule.service_id:
                level = self.by_service.setdefault(rule.service_id, {})
            elif rule.category and rule.provider_id:
                level = self.by_category_provider.setdefault((rule.category, rule.provider_id), {})
            elif rule.category:
                level = self.by_category.setdefault(rule.category, {})
            elif rule.provider_id:
                level = self.by_provider.setdefault(rule.provider_id, {})
            else:
                level = self.by_global
            level.setdefault(rule.tier_id, rule)

    def levels(self, service_id: int, provider_id: int, category: str) -> list[dict[int | None, MarkupRule]]:
        """The rule maps that apply to one service, most specific first (only those that exist)."""
        found = [
            self.by_service.get(service_id),
            self.by_category_provider.get((category, provider_id)) if category else None,
            self.by_category.get(category) if category else None,
            self.by_provider.get(provider_id),
            self.by_global,
        ]
        return [level for level in found if level]

    @staticmethod
    def pick(levels: Sequence[dict[int | None, MarkupRule]], tier_id: int) -> MarkupRule | None:
        for level in levels:
            rule = level.get(tier_id) or level.get(None)
            if rule is not None:
                return rule
        return None


def rule_for(service: Service, tier: Tier | int) -> MarkupRule | None:
    """The rule that prices `service` for `tier` (for display and tests; pricing_refresh does it in bulk)."""
    index = _RuleIndex(MarkupRule.objects.filter(is_active=True))
    tier_id = tier if isinstance(tier, int) else tier.pk
    return index.pick(index.levels(service.pk, service.provider_id, service.category), tier_id)


def _id_chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    size = min(connection.features.max_query_params or _MAX_PARAMS, _MAX_PARAMS)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _write_batch() -> int:
    return min(connection.features.max_query_params or _MAX_PARAMS * 2, _MAX_PARAMS * 2) // _ROW_PARAMS


def pricing_refresh(service_ids: Iterable[int] | None = None) -> PricingResult:
    """Recompute the sell prices of the given services (all if None) for every tier, in bulk.

    Only rows whose price, on-sale flag or rule changed are written; rows of tiers that no longer
    exist are deleted."""
    ids: list[int] | None = None
    if service_ids is not None:
        ids = sorted(set(service_ids))
        if not ids:
            return PricingResult()

    tier_ids = list(Tier.objects.values_list("pk", flat=True))
    index = _RuleIndex(
        MarkupRule.objects.filter(is_active=True).only(
            "pk", "tier_id", "service_id", "category", "provider_id", "percent", "fixed", "rounding_step", "fixed_price"
        )
    )
    service_fields = ("pk", "provider_id", "category", "cost", "is_active", "is_enabled")
    price_fields = ("pk", "service_id", "tier_id", "price", "on_sale", "rule_id")
    if ids is None:
        services = list(Service.objects.values_list(*service_fields))
        existing_rows = list(ServicePrice.objects.values_list(*price_fields))
    else:
        services, existing_rows = [], []
        for chunk in _id_chunks(ids):
            services += Service.objects.filter(pk__in=chunk).values_list(*service_fields)
        for chunk in _id_chunks(ids):
            existing_rows += ServicePrice.objects.filter(service_id__in=chunk).values_list(*price_fields)

    tiers = set(tier_ids)
    existing: dict[tuple[int, int], tuple[Decimal, bool, int | None]] = {}
    stale: list[int] = []
    for pk, service_id, tier_id, price, on_sale, rule_id in existing_rows:
        if tier_id in tiers:
            existing[(service_id, tier_id)] = (price, on_sale, rule_id)
        else:
            stale.append(pk)

    now = timezone.now()
    to_write: list[ServicePrice] = []
    created = unchanged = 0
    off_sale: set[int] = set()
    cache: dict[tuple[int, Decimal], Decimal] = {}  # (rule, cost) -> price: many services share both
    for service_id, provider_id, category, cost, is_active, is_enabled in services:
        levels = index.levels(service_id, provider_id, category)
        offered = is_active and is_enabled
        for tier_id in tier_ids:
            rule = index.pick(levels, tier_id)
            if rule is None:
                price, rule_id = floor_money(cost), None  # no markup: not above cost, so not for sale
            else:
                key = (rule.pk, cost)
                price = cache.get(key)
                if price is None:
                    price = cache[key] = sell_price(cost, rule)
                rule_id = rule.pk
            profitable = rule is not None and price > cost
            if offered and not profitable:
                off_sale.add(service_id)
            on_sale = offered and profitable
            current = existing.get((service_id, tier_id))
            if current is not None and current == (price, on_sale, rule_id):
                unchanged += 1
                continue
            created += current is None
            to_write.append(
                ServicePrice(
                    service_id=service_id,
                    tier_id=tier_id,
                    price=price,
                    on_sale=on_sale,
                    rule_id=rule_id,
                    updated_at=now,
                )
            )

    with transaction.atomic(savepoint=False):
        if to_write:
            # An upsert, so a concurrent refresh that inserted the same row first is no error.
            ServicePrice.objects.bulk_create(
                to_write,
                batch_size=_write_batch(),
                update_conflicts=True,
                unique_fields=["service", "tier"],
                update_fields=["price", "on_sale", "rule", "updated_at"],
            )
        for chunk in _id_chunks(stale):
            ServicePrice.objects.filter(pk__in=chunk).delete()
    return PricingResult(
        created=created,
        updated=len(to_write) - created,
        deleted=len(stale),
        unchanged=unchanged,
        off_sale=len(off_sale),
    )


# --- Reads for the catalogue pages, order quotes and operators --------------------------------------------


def _tier_filter(tier: Tier | int | None) -> dict[str, object]:
    """None (a reseller without a tier) means the default tier."""
    if tier is None:
        return {"tier__is_default": True}
    return {"tier_id": tier if isinstance(tier, int) else tier.pk}


def price_for(service: Service | int, tier: Tier | int | None) -> ServicePrice | None:
    """The sell price of one service for one tier (None: the default tier), in one query.

    With a Service instance, `on_sale` is also checked against that instance's cost and switches, so a
    cost changed since the last refresh can never be sold at a loss."""
    # At most one row per (service, tier), so no ORDER BY: Meta.ordering's "service" would join Service to
    # sort by its own ordering (measured: 18 % of an order's placement time).
    if isinstance(service, Service):
        row = next(iter(ServicePrice.objects.filter(service_id=service.pk, **_tier_filter(tier)).order_by()[:1]), None)
        if row is not None:
            row.service = service
            row.on_sale = row.sellable
        return row
    rows = ServicePrice.objects.select_related("service").filter(service_id=service, **_tier_filter(tier)).order_by()
    return next(iter(rows[:1]), None)


def prices_for_tier(tier: Tier | int | None, *, on_sale: bool | None = True) -> QuerySet[ServicePrice]:
    """A tier's prices (None: the default tier) with their services and providers, catalogue order.

    on_sale=True (default): only what can be bought now (also re-checked against the current cost);
    False: only what the margin guard holds back; None: everything."""
    prices = ServicePrice.objects.filter(**_tier_filter(tier)).select_related("service", "service__provider")
    if on_sale is True:
        prices = prices.filter(
            on_sale=True,
            price__gt=F("service__cost"),
            service__is_active=True,
            service__is_enabled=True,
            service__provider__enabled=True,
        )
    elif on_sale is False:
        prices = prices.filter(on_sale=False)
    return prices.order_by("service__kind", "service__category", "service__name", "service_id")


def off_sale_services(services: QuerySet[Service] | None = None) -> QuerySet[Service]:
    """The margin guard's list: offered services whose price for some tier does not exceed their cost
    (optionally narrowed from `services`)."""
    losing = ServicePrice.objects.filter(service=OuterRef("pk"), price__lte=OuterRef("cost"))
    base = Service.objects.all() if services is None else services
    return (
        base.filter(is_active=True, is_enabled=True)
        .filter(Exists(losing))
        .select_related("provider")
        .order_by("provider__name", "kind", "category", "name")
    )
