"""Reports: CSV downloads (orders, ledger, profit) and the numbers behind the operators' report screens.

CSV rules (one place, used by every download):
- UTF-8 with a BOM first, so Excel detects the encoding; a header row; comma separated, RFC 4180 quoting.
- Formula injection (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR
  gets a leading apostrophe. Numbers (ints, Decimals; amounts are signed) are written plain and never
  escaped: ``-2500`` is a number, not a formula. Whole-Rupiah amounts are written without ``.00`` so they
  read the same in every spreadsheet locale (``2500`` rather than ``2500.00``, which an Indonesian-locale
  sheet could read as 250000).
- Streamed: rows come from ``values_list(...).iterator(chunk_size=...)`` (no model instances, no query per
  row) through one ``csv.writer`` over a small buffer, yielding one encoded chunk per batch of rows, so a
  million rows use constant memory.

Dates are calendar days in Asia/Jakarta (WIB): a range is [start 00:00 WIB, end + 1 day 00:00 WIB).

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

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import LedgerEntry, LedgerKind, User, Wallet
from orders.models import Order, OrderKind, OrderStatus

JAKARTA = ZoneInfo("Asia/Jakarta")
CHUNK_SIZE = 2000  # rows fetched per database round trip
BATCH_ROWS = 500  # rows per yielded chunk of the response (~30-60 KB)
DEFAULT_DAYS = 30
MAX_DAYS = 366
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
BOM = "\ufeff"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_SUM = DecimalField(max_digits=20, decimal_places=2)
_FORMULA_START = frozenset("=+-@\t\r")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- cells --------------------------------------------------------------------------------------------
def escape_text(text: str) -> str:
    """A text cell, neutralised against formula injection (OWASP): a leading ' before = + - @ tab CR."""
    return "'" + text if text[:1] in _FORMULA_START else text


def money_cell(value: Decimal | int | None) -> str:
    """An amount as a plain number: 2500, -2500, 1234.50 (no exponent, no thousands separator)."""
    if value is None:
        return ""
    text = str(value)
    if "E" in text:  # str() of a Decimal may use an exponent (1E+3); a spreadsheet wants 1000
        text = format(value, "f")
    return text[:-3] if text.endswith(".00") else text


def wib(moment: datetime | None) -> str:
    """A stored (aware) time as WIB, ISO-like: 2026-11-21 14:05."""
    if moment is None:
        return ""
    return moment.astimezone(JAKARTA).isoformat(" ", "minutes")[:16]


def wib_stamper():
    """`wib` for a stream of times in (roughly) ascending order: rows in one minute share one conversion.

    A database returns every time of one query in one zone (UTC here), so equal wall-clock minutes of the
    returned values are the same instant's minute and map to the same WIB minute, whatever the offsets."""
    last_key: tuple | None = None
    last_text = ""

    def stamp(moment: datetime | None) -> str:
        nonlocal last_key, last_text
        if moment is None:
            return ""
        key = (moment.minute, moment.hour, moment.day, moment.month, moment.year, moment.tzinfo)
        if key != last_key:
            last_key, last_text = key, wib(moment)
        return last_text

    return stamp


def escape_cell(value: object) -> object:
    """Any value as a safe CSV cell: numbers stay numbers (never escaped), text is escaped, None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return escape_text(str(value))
    if isinstance(value, Decimal):
        return money_cell(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return wib(value)
    if isinstance(value, date):
        return value.isoformat()
    return escape_text(str(value))


# --- streaming ----------------------------------------------------------------------------------------
def csv_stream(header: Sequence[str], rows: Iterable[Sequence[object]], batch: int = BATCH_ROWS) -> Iterator[bytes]:
    """BOM + header, then the rows in encoded chunks of `batch` rows. Pulls rows lazily: nothing is read
    from `rows` before the first data chunk is asked for, and never more than one batch ahead.

    Rows must already be safe cells (the row generators below escape as they build); `header` is escaped.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_text(str(name)) for name in header])
    yield (BOM + buffer.getvalue()).encode("utf-8")
    rows = iter(rows)
    while True:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(islice(rows, batch))
        data = buffer.getvalue()
        if not data:
            return
        yield data.encode("utf-8")


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> StreamingHttpResponse:
    """A streamed CSV download (text/csv; charset=utf-8, BOM, attachment)."""
    response = StreamingHttpResponse(csv_stream(header, rows), content_type="text/csv; charset=utf-8")
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- date ranges --------------------------------------------------------------------------------------
class DateRangeError(ValueError):
    """A bad `start`/`end`; the message is fit to show the user."""


@dataclass(frozen=True)
class DateRange:
    """Calendar days in WIB, both ends included."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=JAKARTA)

    @property
    def end_before(self) -> datetime:
        """The first moment after the range (exclusive upper bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=JAKARTA)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def filename(self, stem: str) -> str:
        return f"{stem}_{self.start.isoformat()}_{self.end.isoformat()}.csv"

    def as_query(self) -> str:
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"


def today_wib() -> date:
    return timezone.now().astimezone(JAKARTA).date()


def _parse_day(raw: str, name: str) -> date:
    text = raw.strip()
    if not _ISO_DATE.fullmatch(text):
        raise DateRangeError(_("%(name)s must be a date written YYYY-MM-DD, e.g. 2026-11-21.") % {"name": name})
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DateRangeError(_("%(name)s is not a real date: %(value)s.") % {"name": name, "value": text}) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise DateRangeError(
            _("%(name)s must be between %(min)s and %(max)s.")
            % {"name": name, "min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
        )
    return day


def parse_date_range(
    params: Mapping[str, str], *, default_days: int = DEFAULT_DAYS, max_days: int = MAX_DAYS, today: date | None = None
) -> DateRange:
    """`start` and `end` (YYYY-MM-DD, WIB days, both included) from a query. Missing: the last
    `default_days` days up to today; only `start`: up to today; only `end`: `default_days` days up to it.
    Raises DateRangeError for a malformed date, start after end, or more than `max_days` days."""
    raw_start = (params.get("start") or "").strip()
    raw_end = (params.get("end") or "").strip()
    end = _parse_day(raw_end, _("End date")) if raw_end else (today or today_wib())
    start = _parse_day(raw_start, _("Start date")) if raw_start else end - timedelta(days=default_days - 1)
    if start > end:
        raise DateRangeError(_("The start date must not be after the end date."))
    period = DateRange(start, end)
    if period.days > max_days:
        raise DateRangeError(
            _("A report covers at most %(max)d days; this range has %(days)d.") % {"max": max_days, "days": period.days}
        )
    return period


# --- orders -------------------------------------------------------------------------------------------
def _labels(choices) -> dict[str, str]:
    """value -> translated label, escaped once (not once per row)."""
    return {value: escape_text(str(label)) for value, label in choices}


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
            _("Charge"),
            _("Refunded"),
            _("Net"),
            _("Upstream cost"),
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
        _("Charge"),
        _("Refunded"),
        _("Net"),
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
    columns = [_("ID"), _("Time (WIB)"), _("Kind"), _("Amount"), _("Balance after"), _("Order ID"), _("Reason")]
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
        for pk, created, kind, amount, after, order_id, reason in rows:
            yield (
                pk,
                stamp(created),
                kinds.get(kind) or esc(kind),
                money(amount),
                money(after),
                order_id if order_id is not None else "",
                esc(reason),
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
    return [_("Day"), _("Provider"), _("Orders"), _("Revenue"), _("Upstream cost"), _("Margin")]


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


# --- chart --------------------------------------------------------------------------------------------
def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1 / 2 / 2.5 / 5 x 10^k not below `value` (a readable top for the y axis)."""
    if value <= 0:
        return Decimal(1000)
    magnitude = Decimal(10) ** (value.adjusted())
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= magnitude * step:
            return magnitude * step
    return magnitude * 10  # pragma: no cover


@dataclass(frozen=True)
class Chart:
    """Pixel geometry of the daily revenue-vs-cost chart (an inline SVG rendered by the template)."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    revenue_points: str
    cost_points: str
    markers: list[dict]
    y_ticks: list[dict]
    x_ticks: list[dict]
    empty: bool

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    @property
    def right(self) -> int:
        return self.left + self.plot_width


def daily_chart(by_day: Sequence[ProfitLine], *, width: int = 760, height: int = 260) -> Chart:
    """Server-side geometry for daily revenue vs upstream cost. Integer pixels; no floats touch money."""
    left, top, right_pad, bottom_pad = 92, 16, 30, 34
    plot_w, plot_h = width - left - right_pad, height - top - bottom_pad
    count = len(by_day)
    peak = max([line.revenue for line in by_day] + [line.cost for line in by_day] + [ZERO])
    y_max = _nice_ceiling(peak)

    def x(i: int) -> int:
        return left + (plot_w // 2 if count <= 1 else i * plot_w // (count - 1))

    def y(value: Decimal) -> int:
        clipped = max(value, ZERO)
        return top + plot_h - int(clipped * plot_h / y_max)

    revenue = " ".join(f"{x(i)},{y(line.revenue)}" for i, line in enumerate(by_day))
    cost = " ".join(f"{x(i)},{y(line.cost)}" for i, line in enumerate(by_day))
    markers = []
    if count <= 62:
        for i, line in enumerate(by_day):
            markers.append(
                {"x": x(i), "revenue_y": y(line.revenue), "cost_y": y(line.cost), "line": line, "day": line.label}
            )
    y_ticks = []
    for k in range(5):
        tick_y = top + plot_h - plot_h * k // 4
        y_ticks.append({"y": tick_y, "label_x": left - 6, "label_y": tick_y + 4, "value": y_max * k / 4})
    x_ticks = []
    if count:
        step = max(1, -(-count // 6))
        picks = sorted({*range(0, count, step), count - 1})
        if len(picks) > 1 and picks[-1] - picks[-2] < step // 2:
            picks.pop(-2)  # keep the last day's label clear of its neighbour
        x_ticks = [{"x": x(i), "label_y": top + plot_h + 18, "label": by_day[i].label} for i in picks]
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=plot_w,
        plot_height=plot_h,
        revenue_points=revenue,
        cost_points=cost,
        markers=markers,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        empty=peak <= 0,
    )
