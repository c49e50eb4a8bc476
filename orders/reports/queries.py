"""The rows and numbers of the reports: orders and ledger CSVs, and profit per WIB day and provider.

Rows come from ``values_list(...).iterator(chunk_size=CHUNK_SIZE)`` (no model instances, no query per row)
and are made safe cells as they are built (orders.reports.csv), so orders.reports.csv.csv_stream can pull
them lazily.

Profit (per WIB day and provider):
- revenue = charge - refunded (what the reseller paid and kept paid);
- upstream cost is counted in the share of the order that was not refunded: the full ``cost`` when
  nothing was refunded (completed, in flight, or consumed upstream, e.g. an OTP cancelled after its code
  arrived), nothing when the whole charge was refunded (failed / cancelled), and
  ``cost x (charge - refunded) / charge`` rounded half-up to the cent for partial refunds (SMM ``remains``,
  SMS recipients the gateway rejected): the delivered share. An order with a zero charge counts its cost
  unless it failed or was cancelled;
- margin = revenue - upstream cost; margin % = margin / revenue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from accounts.models import LedgerEntry, LedgerKind, User, Wallet
from accounts.money import rupiah_heading
from accounts.selectors import deposit_refs, ledger_reason
from orders.models import Order, OrderKind, OrderStatus
from orders.reports.csv import escape_text, money_cell, wib_stamper
from orders.reports.periods import JAKARTA, DateRange

CHUNK_SIZE = 2000  # rows fetched per database round trip
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_SUM = DecimalField(max_digits=20, decimal_places=2)


# --- orders -------------------------------------------------------------------------------------------
def _labels(choices) -> dict[str, str]:
    """value -> translated label, escaped once (not once per row)."""
    return {value: escape_text(str(label)) for value, label in choices}


# Money columns say "(Rp)": their cells are plain numbers (68350) for spreadsheets, not "Rp 68.350".
def order_header(*, operator: bool) -> list[str]:
    if operator:
        return [
            _("ID"),
            _("Created (WIB)"),
            _("Kind"),
            _("Service"),
            _("Provider"),
            _("Status"),
            _("Target"),
            _("Quantity"),
            rupiah_heading(_("Charge")),
            rupiah_heading(_("Refunded")),
            rupiah_heading(_("Net")),
            rupiah_heading(_("Upstream cost")),
            _("Upstream ID"),
        ]
    return [
        _("ID"),
        _("Created (WIB)"),
        _("Kind"),
        _("Service"),
        _("Status"),
        _("Target"),
        _("Quantity"),
        rupiah_heading(_("Charge")),
        rupiah_heading(_("Refunded")),
        rupiah_heading(_("Net")),
    ]


def _orders_in(period: DateRange, user: User | None):
    orders = Order.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_before)
    if user is not None:
        orders = orders.filter(user=user)
    return orders.order_by("id")


def order_rows(period: DateRange, *, user: User | None = None) -> Iterator[tuple]:
    """Orders created in `period`, oldest first. With `user`: that reseller's own orders and the reseller
    columns; without: everyone's, with the operator columns (provider, upstream cost, upstream id)."""
    kinds, statuses = _labels(OrderKind.choices), _labels(OrderStatus.choices)
    esc, money, stamp = escape_text, money_cell, wib_stamper()
    if user is not None:
        rows = (
            _orders_in(period, user)
            .values_list(
                "id", "created_at", "kind", "service__name", "status", "target", "quantity", "charge", "refunded"
            )
            .iterator(chunk_size=CHUNK_SIZE)
        )
        for pk, created, kind, service, status, target, quantity, charge, refunded in rows:
            yield (
                pk,
                stamp(created),
                kinds.get(kind) or esc(kind),
                esc(service),
                statuses.get(status) or esc(status),
                esc(target),
                quantity,
                money(charge),
                money(refunded),
                money(charge - refunded),
            )
        return
    rows = (
        _orders_in(period, None)
        .values_list(
            "id",
            "created_at",
            "kind",
            "service__name",
            "provider__name",
            "status",
            "target",
            "quantity",
            "charge",
            "refunded",
            "cost",
            "external_id",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for pk, created, kind, service, provider, status, target, quantity, charge, refunded, cost, external in rows:
        yield (
            pk,
            stamp(created),
            kinds.get(kind) or esc(kind),
            esc(service),
            esc(provider),
            statuses.get(status) or esc(status),
            esc(target),
            quantity,
            money(charge),
            money(refunded),
            money(charge - refunded),
            money(cost),
            esc(external),
        )


# --- ledger -------------------------------------------------------------------------------------------
def ledger_header(*, operator: bool) -> list[str]:
    columns = [
        _("ID"),
        _("Time (WIB)"),
        _("Kind"),
        rupiah_heading(_("Amount")),
        rupiah_heading(_("Balance after")),
        _("Order ID"),
        _("Reason"),
    ]
    if operator:
        columns.insert(2, _("Reseller"))
    return columns


def ledger_rows(period: DateRange, *, user: User | None = None) -> Iterator[tuple]:
    """Ledger entries written in `period`, oldest first: one reseller's (with `user`) or everyone's, with
    the reseller's username (without)."""
    kinds = _labels(LedgerKind.choices)
    esc, money, stamp = escape_text, money_cell, wib_stamper()
    entries = LedgerEntry.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_before)
    if user is not None:
        wallet_id = Wallet.objects.filter(user=user).values_list("pk", flat=True).first()
        rows = (
            entries.filter(wallet_id=wallet_id)
            .order_by("id")
            .values_list("id", "created_at", "kind", "amount", "balance_after", "order_id", "reason")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        deposits = deposit_refs(user)
        for pk, created, kind, amount, after, order_id, reason in rows:
            yield (
                pk,
                stamp(created),
                kinds.get(kind) or esc(kind),
                money(amount),
                money(after),
                order_id if order_id is not None else "",
                esc(ledger_reason(kind, order_id, reason, pk, deposits)),  # in the reseller's language
            )
        return
    rows = (
        entries.order_by("id")
        .values_list(
            "id", "created_at", "wallet__user__username", "kind", "amount", "balance_after", "order_id", "reason"
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for pk, created, username, kind, amount, after, order_id, reason in rows:
        yield (
            pk,
            stamp(created),
            esc(username),
            kinds.get(kind) or esc(kind),
            money(amount),
            money(after),
            order_id if order_id is not None else "",
            esc(reason),
        )


# --- profit -------------------------------------------------------------------------------------------
def _pct(margin: Decimal, revenue: Decimal) -> Decimal | None:
    if not revenue:
        return None
    return (margin * 100 / revenue).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class ProfitLine:
    """Revenue, upstream cost and margin of a set of orders (one day, one provider, or a total)."""

    label: object = ""
    orders: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_pct(self) -> Decimal | None:
        return _pct(self.margin, self.revenue)

    def add(self, other: ProfitLine) -> None:
        self.orders += other.orders
        self.revenue += other.revenue
        self.cost += other.cost


@dataclass
class ProfitRow(ProfitLine):
    day: date | None = None
    provider_id: int | None = None
    provider: str = ""


@dataclass
class ProfitReport:
    period: DateRange
    rows: list[ProfitRow]  # per day and provider, days ascending, providers by name
    by_day: list[ProfitLine]  # every day of the period, empty days included
    by_provider: list[ProfitLine]
    total: ProfitLine = field(default_factory=ProfitLine)


def _profit_base(period: DateRange):
    return (
        Order.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_before)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=JAKARTA))
    )


def _partial_share(cost: Decimal, charge: Decimal, refunded: Decimal) -> Decimal:
    return (cost * (charge - refunded) / charge).quantize(CENT, rounding=ROUND_HALF_UP)


def profit_rows_data(period: DateRange) -> list[ProfitRow]:
    """Per WIB day and provider: orders, revenue and upstream cost (see the module notes), exact in Decimal.

    Two grouped queries: the sums, and the few partially refunded orders whose cost share is computed here.
    """
    gone = [OrderStatus.FAILED, OrderStatus.CANCELED]
    full_cost = Q(refunded=0) & ~(Q(charge=0) & Q(status__in=gone))
    grouped = (
        _profit_base(period)
        .values("day", "provider_id", "provider__name")
        .annotate(
            n=Count("id"),
            charged=Sum("charge", output_field=_SUM),
            refunds=Sum("refunded", output_field=_SUM),
            full_cost=Sum("cost", filter=full_cost, output_field=_SUM),
        )
        .values_list("day", "provider_id", "provider__name", "n", "charged", "refunds", "full_cost")
        .order_by("day", "provider__name", "provider_id")
    )
    rows: dict[tuple, ProfitRow] = {}
    for day, provider_id, provider, n, charged, refunds, cost in grouped.iterator(chunk_size=CHUNK_SIZE):
        rows[(day, provider_id)] = ProfitRow(
            day=day,
            provider_id=provider_id,
            provider=provider,
            label=day,
            orders=n,
            revenue=((charged or ZERO) - (refunds or ZERO)).quantize(CENT),
            cost=(cost or ZERO).quantize(CENT),
        )
    partial = (
        _profit_base(period)
        .filter(refunded__gt=0, refunded__lt=F("charge"))
        .values_list("day", "provider_id", "cost", "charge", "refunded")
    )
    for day, provider_id, cost, charge, refunded in partial.iterator(chunk_size=CHUNK_SIZE):
        row = rows.get((day, provider_id))
        if row is not None:  # always present: the same orders are in the grouped query
            row.cost += _partial_share(cost, charge, refunded)
    return list(rows.values())


def profit_report(period: DateRange) -> ProfitReport:
    """Everything the profit screen shows: day x provider rows, per-day (all days) and per-provider
    subtotals, and the total."""
    rows = profit_rows_data(period)
    days = {day: ProfitLine(label=day) for day in period.each_day()}
    providers: dict[int, ProfitLine] = {}
    total = ProfitLine(label=_("Total"))
    for row in rows:
        days.setdefault(row.day, ProfitLine(label=row.day)).add(row)
        providers.setdefault(row.provider_id, ProfitLine(label=row.provider)).add(row)
        total.add(row)
    by_provider = sorted(providers.values(), key=lambda line: str(line.label).lower())
    return ProfitReport(period=period, rows=rows, by_day=list(days.values()), by_provider=by_provider, total=total)


def profit_header() -> list[str]:
    return [
        _("Day"),
        _("Provider"),
        _("Orders"),
        rupiah_heading(_("Revenue")),
        rupiah_heading(_("Upstream cost")),
        rupiah_heading(_("Margin")),
    ]


def profit_rows(period: DateRange) -> Iterator[tuple]:
    """The profit CSV: one row per WIB day and provider that had orders."""
    for row in profit_rows_data(period):
        yield (
            row.day.isoformat(),
            escape_text(row.provider),
            row.orders,
            money_cell(row.revenue),
            money_cell(row.cost),
            money_cell(row.margin),
        )
