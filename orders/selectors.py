"""Reads for the reseller pages: the orders list (keyset pages, no COUNT), the dashboard figures and
the catalogue. Every query is scoped to one reseller and walks one of the Order indexes
(user, -id), (user, kind, -id) or (user, status, -id)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import LedgerEntry, LedgerKind, User
from orders.catalogue_labels import category_choices
from orders.models import Order, OrderEvent, OrderKind, OrderRecipient, OrderStatus
from orders.quotes import in_cutoff, sms_routes, user_tier
from providers.adapters.types import DeliveryState, ProductKind
from providers.models import ROUTE_LABELS, Service, ServicePrice
from providers.pricing import price_for, prices_for_tier

WIB = ZoneInfo("Asia/Jakarta")
PAGE_SIZE = 25
LEDGER_PAGE_SIZE = 50
MAX_SEARCH = 100
_MAX_ID = 2**63 - 1


def clean_text(value: object, limit: int) -> str:
    """A search or filter value from a query string: control characters (NUL breaks PostgreSQL text)
    removed, trimmed, cut to `limit` characters."""
    text = "".join(ch for ch in str(value or "") if ch.isprintable())
    return text.strip()[:limit]


def wib_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(WIB).date()


def wib_start(day: date) -> datetime:
    """00:00 WIB of `day`, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=WIB)


# --- orders list ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderFilters:
    kind: str = ""
    status: str = ""
    start: date | None = None
    end: date | None = None  # inclusive
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.kind or self.status or self.start or self.end or self.q)


@dataclass
class OrderPage:
    orders: list[Order]
    newer: int | None = None  # ?after=<id> shows the page of newer orders
    older: int | None = None  # ?before=<id> shows the page of older orders


def with_product_names(orders: list[Order]) -> list[Order]:
    """Set `product_name` for display: SMS orders show their type ("SMS Reguler"), never the route's
    provider."""
    for order in orders:
        if order.kind == ProductKind.SMS:
            order.product_name = ROUTE_LABELS.get(order.service.external_id, "SMS")
        else:
            order.product_name = order.service.name
    return orders


def _search(q: str) -> Q | None:
    q = clean_text(q, MAX_SEARCH)
    if not q:
        return None
    bare = q.removeprefix("#").strip()
    if bare.isascii() and bare.isdigit():
        cond = Q(target__contains=bare)
        if len(bare) <= 18 and int(bare) <= _MAX_ID:
            cond |= Q(pk=int(bare))
        if bare.startswith("0") and len(bare) > 5:  # 0812... is stored by the OTP upstream as 62812...
            cond |= Q(target__contains="62" + bare[1:])
        return cond
    return Q(target__icontains=q)


def orders_filtered(user: User, filters: OrderFilters) -> QuerySet[Order]:
    orders = Order.objects.filter(user=user)
    if filters.kind in OrderKind.values:
        orders = orders.filter(kind=filters.kind)  # (user, kind, -id)
    if filters.status in OrderStatus.values:
        orders = orders.filter(status=filters.status)  # (user, status, -id)
    if filters.start:
        orders = orders.filter(created_at__gte=wib_start(filters.start))
    if filters.end:
        orders = orders.filter(created_at__lt=wib_start(filters.end + timedelta(days=1)))
    search = _search(filters.q)
    if search is not None:
        orders = orders.filter(search)
    return orders


def order_page(
    user: User, filters: OrderFilters, *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> OrderPage:
    """One page of the reseller's orders, newest first, by keyset on id: one query, no COUNT.

    `before=<id>`: the page of orders older than that id; `after=<id>`: the page of orders newer than it.
    One row more than the page is fetched to know whether there is a further page."""
    base = orders_filtered(user, filters).select_related("service")
    if after is not None:
        rows = list(base.filter(pk__gt=after).order_by("id")[: size + 1])
        more = len(rows) > size
        rows = with_product_names(list(reversed(rows[:size])))
        if not rows:  # nothing newer (deleted, or a hand-made URL): show the first page
            return order_page(user, filters, size=size)
        return OrderPage(rows, newer=rows[0].pk if more else None, older=rows[-1].pk)
    page = base.order_by("-id")
    if before is not None:
        page = page.filter(pk__lt=before)
    rows = list(page[: size + 1])
    more = len(rows) > size
    rows = with_product_names(rows[:size])
    return OrderPage(
        rows,
        newer=rows[0].pk if before is not None and rows else None,
        older=rows[-1].pk if more else None,
    )


# --- order detail ---------------------------------------------------------------------------------
@dataclass
class RecipientSummary:
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    shown: list[OrderRecipient] = field(default_factory=list)


def order_recipients(order: Order, limit: int = 100) -> RecipientSummary:
    if order.kind != ProductKind.SMS:
        return RecipientSummary()
    counts = dict(order.recipients.values("state").annotate(n=Count("pk")).values_list("state", "n"))
    known = [state.value for state in DeliveryState]
    ordered = [state for state in known if state in counts] + [state for state in counts if state not in known]
    return RecipientSummary(
        total=sum(counts.values()),
        by_state={state: counts[state] for state in ordered},
        shown=list(order.recipients.order_by("pk")[:limit]),
    )


def order_events(order: Order) -> list[OrderEvent]:
    return list(order.events.order_by("id"))


# --- dashboard ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaySpend:
    day: date
    amount: Decimal


def _spend_entries(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(wallet__user=user, kind__in=[LedgerKind.CHARGE, LedgerKind.REFUND])


def spend_since(user: User, start: datetime) -> Decimal:
    """Charges minus refunds since `start` (a positive number when money was spent)."""
    total = _spend_entries(user).filter(created_at__gte=start).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal("0")) + Decimal("0.00")


def daily_spend(user: User, days: int = 30, today: date | None = None) -> list[DaySpend]:
    """Charges minus refunds per WIB day, for the `days` days ending today (oldest first, zeros included)."""
    today = today or wib_today()
    first = today - timedelta(days=days - 1)
    rows = (
        _spend_entries(user)
        .filter(created_at__gte=wib_start(first))
        .annotate(day=TruncDate("created_at", tzinfo=WIB))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    by_day = {day: -(total or Decimal("0")) for day, total in rows}
    return [DaySpend(d, by_day.get(d, Decimal("0")) + Decimal("0.00")) for d in _days(first, days)]


def _days(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


def order_counts(user: User) -> dict[str, int]:
    """Orders per status (index (user, status, -id)), in the status order of OrderStatus."""
    counts = dict(Order.objects.filter(user=user).values("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {status: counts[status] for status in OrderStatus.values if counts.get(status)}


def recent_orders(user: User, limit: int = 8) -> list[Order]:
    return with_product_names(list(Order.objects.filter(user=user).select_related("service").order_by("-id")[:limit]))


# --- catalogue ------------------------------------------------------------------------------------
class Availability:
    AVAILABLE = "available"
    CUTOFF = "cutoff"
    EMPTY = "empty"
    OFF_SALE = "off_sale"
    UNAVAILABLE = "unavailable"


@dataclass
class CatalogueItem:
    service: Service
    price: Decimal | None
    state: str
    sms_type: str = ""

    @property
    def orderable(self) -> bool:
        return self.state == Availability.AVAILABLE

    @property
    def name(self) -> str:
        return ROUTE_LABELS.get(self.sms_type, self.service.name) if self.sms_type else self.service.name

    @property
    def has_cutoff(self) -> bool:
        s = self.service
        return s.cutoff_start is not None and s.cutoff_end is not None and s.cutoff_start != s.cutoff_end


def availability(service: Service, sellable: bool, now: datetime) -> str:
    if not (service.is_active and service.is_enabled and service.provider.enabled):
        return Availability.UNAVAILABLE
    if not sellable:
        return Availability.OFF_SALE
    if not service.in_stock:
        return Availability.EMPTY
    if in_cutoff(service, now):
        return Availability.CUTOFF
    return Availability.AVAILABLE


def catalogue_prices(user: User, *, kind: str = "", category: str = "", q: str = "") -> QuerySet[ServicePrice]:
    """The reseller's tier prices of everything offered upstream, on sale or not (off sale is shown,
    not hidden), SMS routes excluded (they are listed per type by `sms_catalogue`)."""
    prices = prices_for_tier(user_tier(user), on_sale=None).filter(service__is_active=True)
    prices = prices.exclude(service__kind=ProductKind.SMS)
    if kind:
        prices = prices.filter(service__kind=kind)
    category = clean_text(category, 150)
    if category:
        prices = prices.filter(service__category=category)
    q = clean_text(q, MAX_SEARCH)
    if q:
        prices = prices.filter(Q(service__name__icontains=q) | Q(service__category__icontains=q))
    return prices


def catalogue_items(prices: list[ServicePrice], now: datetime | None = None) -> list[CatalogueItem]:
    now = now or timezone.now()
    return [CatalogueItem(p.service, p.price, availability(p.service, p.sellable, now)) for p in prices]


def catalogue_categories(user: User, kind: str = "") -> list[tuple[str, str]]:
    """(raw category, human name) of what the reseller's catalogue holds, for the category filters."""
    prices = prices_for_tier(user_tier(user), on_sale=None).filter(service__is_active=True)
    prices = prices.exclude(service__kind=ProductKind.SMS)
    if kind:
        prices = prices.filter(service__kind=kind)
    return category_choices(prices.order_by().values_list("service__kind", "service__category").distinct())


def sms_catalogue(user: User, now: datetime | None = None) -> list[CatalogueItem]:
    """One line per SMS type: the price of its first route (what an order is priced at)."""
    now = now or timezone.now()
    tier = user_tier(user)
    items = []
    for sms_type in ROUTE_LABELS:
        routes = sms_routes(sms_type)
        if not routes:
            continue
        price = price_for(routes[0], tier)
        sellable = bool(price and price.on_sale)
        items.append(
            CatalogueItem(
                routes[0], price.price if price else None, availability(routes[0], sellable, now), sms_type=sms_type
            )
        )
    return items


def sms_types_available() -> list[str]:
    return [t for t in ROUTE_LABELS if sms_routes(t)]


def order_services(user: User, kind: str, category: str = "", limit: int = 500) -> tuple[list[ServicePrice], bool]:
    """On-sale products of one kind for an order form's select, optionally of one category; the flag
    says the list was cut at `limit` (pick a category to see the rest)."""
    prices = prices_for_tier(user_tier(user)).filter(service__kind=kind)
    category = clean_text(category, 150)
    if category:
        prices = prices.filter(service__category=category)
    rows = list(prices[: limit + 1])
    return rows[:limit], len(rows) > limit


_ID = re.compile(r"^\d{1,18}$")


def parse_id(value: str | None) -> int | None:
    """A keyset cursor from the query string, or None for anything that is not a sane positive id."""
    if value and _ID.match(value.strip()):
        return int(value.strip())
    return None
