"""Realistic demo data in bulk, for demos and benchmarks (`manage.py seed_demo`).

What it writes, for `resellers` new resellers and `orders` new orders:
- a small catalogue (one seed provider per protocol with a few dozen services, priced by pricing_refresh)
  when some product kind has nothing on sale yet;
- resellers with wallets, tiers mixed, order volume skewed Zipf-like (a few heavy resellers own most orders);
- orders of all four kinds and all statuses, created over ~`months` months (busier in WIB daytime and in
  recent months), statuses by age (only recent orders are still running), with SMS recipients and history;
- the ledger that goes with them, placed through accounts.services.ledger_post_many (the rules and rows of
  the money services, in bulk): one charge per order, one refund for canceled / failed / partial orders, and
  approved deposits (a DepositRequest and its deposit entry) just before a charge would take a wallet below
  zero. Charges and refunds come from the order code's own formulas (orders.quotes.order_amounts,
  orders.services.refund_amount). Movements are posted in time order, so `manage.py ledger_check` stays
  clean.

Speed (a million orders in about two minutes on 2 cores): rows are generated in batches (time slices, oldest
first) and written with COPY on PostgreSQL (executemany on SQLite), ids reserved up front per batch so ledger
entries can point at their orders, all in one transaction: an interrupted seed leaves nothing behind. On
PostgreSQL, a load at least as big as the orders table drops the plain indexes of the bulk tables and rebuilds
them at the end (faster than maintaining them row by row), and a superuser session skips the foreign-key
triggers for that transaction (rows reference ids that exist by construction; check and unique constraints
still apply). Run it on an idle database: ids come from the sequences, so a concurrent writer would interleave
ids (never collide), and the bulk tables are locked while their indexes are rebuilt.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import DepositMethod, DepositRequest, LedgerEntry, LedgerKind, Tier, User, Wallet
from accounts.services import Posting, ledger_post_many, wallet_get
from orders.models import EventCode, Order, OrderEvent, OrderRecipient
from orders.quotes import order_amounts
from orders.services import refund_amount
from providers.adapters.types import DeliveryState, ProductKind, Status
from providers.models import Provider, Service, ServicePrice
from providers.pricing import pricing_refresh
from providers.services import provider_save

WIB = ZoneInfo("Asia/Jakarta")
USERNAME_PREFIX = "seed-"
ZERO = Decimal("0.00")

# Plain strings in the hot loop (psycopg would dump an Enum member by its name, and enum access is slow).
OTP, SMM, PREPAID, SMS = (k.value for k in (ProductKind.OTP, ProductKind.SMM, ProductKind.PREPAID, ProductKind.SMS))
SUBMITTING, PENDING, PROCESSING, UNKNOWN = (
    s.value for s in (Status.SUBMITTING, Status.PENDING, Status.PROCESSING, Status.UNKNOWN)
)
COMPLETED, PARTIAL, CANCELED, FAILED = (
    s.value for s in (Status.COMPLETED, Status.PARTIAL, Status.CANCELED, Status.FAILED)
)
FINAL = frozenset({COMPLETED, PARTIAL, CANCELED, FAILED})
CHARGE, REFUND, DEPOSIT = LedgerKind.CHARGE.value, LedgerKind.REFUND.value, LedgerKind.DEPOSIT.value
QUEUED, SENT, DELIVERED = DeliveryState.QUEUED.value, DeliveryState.SENT.value, DeliveryState.DELIVERED.value
REJECTED, UNDELIVERED = DeliveryState.REJECTED.value, DeliveryState.FAILED.value
PLACED, ACCEPTED, REFUSED, LOST, REFRESHED, OTP_OVER = (
    c.value
    for c in (
        EventCode.PLACED,
        EventCode.ACCEPTED,
        EventCode.REFUSED,
        EventCode.OUTCOME_UNKNOWN,
        EventCode.REFRESH,
        EventCode.OTP_EXPIRED,
    )
)
DELIVERY_CODE = {DELIVERED: "1", REJECTED: "32", UNDELIVERED: "31"}
CENT = Decimal("0.01")

# Share of orders per kind, and of final statuses per kind (the rest of a kind's orders complete).
KIND_SHARE = ((SMM, 0.40), (OTP, 0.30), (PREPAID, 0.20), (SMS, 0.10))
KINDS = [k for k, _s in KIND_SHARE]
KIND_CUM = list(itertools.accumulate(s for _k, s in KIND_SHARE))
FINAL_MIX = {
    OTP: ((COMPLETED, 0.62), (CANCELED, 0.32), (FAILED, 0.06)),
    SMM: ((COMPLETED, 0.78), (PARTIAL, 0.09), (CANCELED, 0.07), (FAILED, 0.06)),
    PREPAID: ((COMPLETED, 0.87), (FAILED, 0.13)),
    SMS: ((COMPLETED, 0.80), (PARTIAL, 0.12), (FAILED, 0.08)),
}
RAW_STATUS = {
    OTP: {COMPLETED: "Success", CANCELED: "Cancel", FAILED: "Error"},
    SMM: {COMPLETED: "Completed", PARTIAL: "Partial", CANCELED: "Canceled", FAILED: "Error", PROCESSING: "In progress"},
    PREPAID: {COMPLETED: "success", FAILED: "failed"},
}
# How long an order of each kind runs (seconds, uniform in the range): younger orders are still active.
RUN_TIME = {OTP: (60, 20 * 60), SMM: (10 * 60, 2 * 86400), PREPAID: (5, 10 * 60), SMS: (5, 30 * 60)}
UNKNOWN_SHARE = 0.002  # placement reply lost: charged, no upstream id, waiting for an operator
REFUSED_SHARE = 0.03  # refused at placement: failed at once, full refund
DEPOSIT_STEPS = (100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000)
TIER_SHARE = (("Basic", 0.7), ("Reseller", 0.2), ("VIP", 0.1))
SMS_TEXTS = (
    "Kode verifikasi Anda {code}. Jangan berikan kode ini kepada siapa pun.",
    "Promo akhir pekan! Diskon 20% untuk semua produk. Info: wa.me/6281200000000",
    "Pesanan Anda sudah dikirim dan akan tiba dalam 2-3 hari kerja. Terima kasih.",
    "Pengingat: tagihan bulan ini jatuh tempo besok. Abaikan jika sudah membayar.",
)
SMM_SITES = {  # a link on the product's own platform (an Instagram service gets an Instagram post)
    "instagram": "instagram.com/p/",
    "tiktok": "tiktok.com/@user/video/",
    "youtube": "youtube.com/watch?v=",
    "facebook": "facebook.com/posts/",
    "twitter": "x.com/user/status/",
}


def smm_link(product_name: str, number: str) -> str:
    site = next((path for key, path in SMM_SITES.items() if key in product_name.lower()), "instagram.com/p/")
    return f"https://{site}{number}"


@dataclass
class SeedResult:
    resellers: int = 0
    orders: int = 0
    ledger_entries: int = 0
    deposits: int = 0
    recipients: int = 0
    events: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.orders / self.seconds if self.seconds else 0
        return (
            f"{self.resellers:,} resellers, {self.orders:,} orders, {self.ledger_entries:,} ledger entries "
            f"({self.deposits:,} deposits), {self.recipients:,} SMS recipients, {self.events:,} order events "
            f"in {self.seconds:.1f} s ({rate:,.0f} orders/s)"
        )


@dataclass(frozen=True)
class _Product:
    service_id: int
    provider_id: int
    kind: str
    name: str
    external_id: str
    cost: Decimal
    min_qty: int
    max_qty: int
    prices: dict[int, Decimal]  # tier id -> sell price per unit


# --- catalogue --------------------------------------------------------------------------------------------
_SEED_PROVIDERS = {
    ProductKind.OTP: ("Seed VirtuSIM", "virtusim", "https://virtusim.example.invalid/api/json.php"),
    ProductKind.SMM: ("Seed SMM", "smm_v2", "https://smm.example.invalid/api/v2"),
    ProductKind.PREPAID: ("Seed Osimesa", "osimesa", "https://osimesa.example.invalid/api/prepaid"),
    ProductKind.SMS: ("Seed RajaSMS", "rajasms", "https://rajasms.example.invalid"),
}


def _seed_services(provider: Provider, kind: ProductKind, rng: random.Random) -> list[Service]:
    rows: list[Service] = []
    if kind == ProductKind.OTP:
        apps = ("WhatsApp", "Telegram", "Shopee", "Tokopedia", "Gojek", "Grab", "Facebook", "Google", "TikTok", "DANA")
        for i, app in enumerate(apps):
            for j, op in enumerate(("any", "telkomsel")):
                rows.append(
                    Service(
                        external_id=str(1000 + i * 10 + j),
                        name=f"{app} ({op})",
                        category="Indonesia",
                        kind=kind,
                        cost=Decimal(rng.choice((1500, 2000, 2500, 3500, 5000))),
                        stock=rng.randint(50, 5000),
                    )
                )
    elif kind == ProductKind.SMM:
        platforms = ("Instagram", "TikTok", "YouTube", "Facebook", "Twitter")
        what = ("Followers", "Likes", "Views", "Comments")
        for i, (platform, item) in enumerate(itertools.product(platforms, what)):
            rows.append(
                Service(
                    external_id=str(2000 + i),
                    name=f"{platform} {item} [Real]",
                    category=f"{platform} {item}",
                    kind=kind,
                    cost=Decimal(rng.choice((800, 2500, 6000, 12000, 25000))),
                    min_qty=100,
                    max_qty=rng.choice((10_000, 50_000, 100_000)),
                    can_refill=item == "Followers",
                    can_cancel=True,
                )
            )
    elif kind == ProductKind.PREPAID:
        for op in ("Telkomsel", "Indosat", "XL", "Axis", "Tri"):
            for nominal in (5_000, 10_000, 25_000, 50_000, 100_000):
                rows.append(
                    Service(
                        external_id=f"{op[:3].upper()}{nominal // 1000}",
                        name=f"Pulsa {op} {nominal:,}".replace(",", "."),
                        category=f"Pulsa {op}",
                        kind=kind,
                        cost=Decimal(nominal + rng.choice((150, 250, 500, 1000))),
                    )
                )
    for row in rows:
        row.provider = provider
        row.synced_at = timezone.now()
    return Service.objects.bulk_create(rows)


def catalogue_ensure(rng: random.Random | None = None, *, create: bool = True) -> dict[ProductKind, list[_Product]]:
    """Products on sale to every tier, per kind; creates a seed provider for a kind that has none (unless
    `create` is False: the demo's history uses only what its sandbox providers sell, since a seed provider's
    made-up address would be polled by the worker and fail)."""
    rng = rng or random.Random(0)
    catalogue = _products()
    missing = [kind for kind, _share in KIND_SHARE if not catalogue.get(kind)]
    if not missing or not create:
        return catalogue
    refresh: list[int] = []
    for kind in missing:
        name, protocol, url = _SEED_PROVIDERS[kind]
        provider, _new = provider_save(name=name, kind=protocol, base_url=url, api_key="seed-demo-key", user_id="1")
        if kind != ProductKind.SMS and not Service.objects.filter(provider=provider).exists():
            _seed_services(provider, kind, rng)
        refresh += Service.objects.filter(provider=provider).values_list("pk", flat=True)
    pricing_refresh(refresh)
    catalogue = _products()
    for kind, _share in KIND_SHARE:
        if not catalogue.get(kind):
            raise RuntimeError(f"no {kind} product is on sale for every tier: check the markup rules")
    return catalogue


def _products() -> dict[ProductKind, list[_Product]]:
    tiers = set(Tier.objects.values_list("pk", flat=True))
    prices: dict[int, dict[int, Decimal]] = {}
    for service_id, tier_id, price in ServicePrice.objects.filter(on_sale=True).values_list(
        "service_id", "tier_id", "price"
    ):
        prices.setdefault(service_id, {})[tier_id] = price
    catalogue: dict[ProductKind, list[_Product]] = {}
    for kind, _share in KIND_SHARE:
        catalogue[kind] = [
            _Product(s.pk, s.provider_id, kind, s.name, s.external_id, s.cost, s.min_qty, s.max_qty, prices[s.pk])
            for s in _on_sale(kind).order_by("pk")
            if s.pk in prices and set(prices[s.pk]) >= tiers and all(p > s.cost for p in prices[s.pk].values())
        ]
    return catalogue


def _on_sale(kind: ProductKind):
    return Service.objects.filter(kind=kind, is_active=True, is_enabled=True, provider__enabled=True, cost__gt=0)


# --- writing ----------------------------------------------------------------------------------------------
class _Writer:
    """Insert tuples in column order: COPY on PostgreSQL, executemany elsewhere. Ids are reserved per table
    from its sequence (PostgreSQL) or after its current maximum (SQLite, whose AUTOINCREMENT follows)."""

    def __init__(self) -> None:
        self.pg = connection.vendor == "postgresql"
        self._next: dict[str, int] = {}
        ops = connection.ops
        # SQLite stores times as naive UTC text; psycopg adapts aware datetimes itself.
        self.dt: Callable[[datetime | None], object] = (lambda v: v) if self.pg else ops.adapt_datetimefield_value

    def reserve(self, model: type[Model], count: int) -> int:
        """The first of `count` consecutive fresh ids for `model`."""
        table = model._meta.db_table
        if count <= 0:
            return 0
        if self.pg:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
                    [table, table, count - 1],
                )
                return cursor.fetchone()[0] - count + 1
        if table not in self._next:
            self._next[table] = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        first = self._next[table]
        self._next[table] += count
        return first

    def write(self, model: type[Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        names = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            if self.pg:
                with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - names from the models
                for start in range(0, len(rows), 5000):
                    cursor.executemany(sql, rows[start : start + 5000])


def _check_columns(model: type[Model], columns: Sequence[str], optional: Iterable[str] = ()) -> None:
    """Guard against schema drift: every NOT NULL column without a database default must be written."""
    written = set(columns)
    missing = [
        f.column
        for f in model._meta.concrete_fields
        if f.column not in written and f.column not in optional and not f.null and not f.primary_key
    ]
    unknown = written - {f.column for f in model._meta.concrete_fields}
    if missing or unknown:
        raise RuntimeError(f"seed columns out of date for {model.__name__}: missing {missing}, unknown {unknown}")


ORDER_COLUMNS = (
    "id",
    "user_id",
    "kind",
    "service_id",
    "provider_id",
    "status",
    "raw_status",
    "external_id",
    "unit_price",
    "unit_cost",
    "quantity",
    "charge",
    "cost",
    "refunded",
    "target",
    "operator",
    "message",
    "segments",
    "schedule_at",
    "otp_code",
    "otp_sms",
    "voucher",
    "start_count",
    "remains",
    "refill_id",
    "error",
    "source",
    "client_callback_url",
    "client_protocol",
    "submit_claim",
    "created_at",
    "updated_at",
    "finished_at",
)
RECIPIENT_COLUMNS = ("order_id", "number", "message", "segments", "external_id", "state", "code", "text", "updated_at")
EVENT_COLUMNS = ("order_id", "at", "from_status", "to_status", "code", "reason", "actor_id")


# --- time ---------------------------------------------------------------------------------------------------
class _Timeline:
    """Order times over [start, end): an hourly intensity (WIB day/night, weekends, growth towards the
    present). `at(fraction)` is the inverse of the cumulative intensity, so equally spaced fractions give
    times in increasing order that follow the intensity (stratified sampling)."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        hours = max(1, math.ceil((end - start).total_seconds() / 3600))
        self.seconds = (end - start).total_seconds()
        weights = []
        for h in range(hours):
            local = (start + timedelta(hours=h)).astimezone(WIB)
            daily = 0.15 if local.hour < 6 else 0.7 if local.hour < 9 else 0.6 if local.hour == 23 else 1.2
            weekly = 0.85 if local.weekday() >= 5 else 1.0
            growth = 0.6 + 0.8 * h / hours
            weights.append(daily * weekly * growth)
        self.weights = weights
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]
        self._hour = 0

    def at(self, fraction: float) -> datetime:
        """Callers ask for increasing fractions (the hour pointer only moves forward)."""
        target = fraction * self.total
        while self._hour < len(self.cum) - 1 and self.cum[self._hour] <= target:
            self._hour += 1
        h = self._hour
        before = self.cum[h - 1] if h else 0.0
        inside = (target - before) / self.weights[h]
        offset = min((h + max(0.0, min(inside, 1.0))) * 3600, self.seconds - 0.001)
        return self.start + timedelta(seconds=offset)


# --- the seeder ---------------------------------------------------------------------------------------------
class Seeder:
    def __init__(
        self,
        *,
        resellers: int,
        orders: int,
        months: float = 6,
        seed: int | None = None,
        batch_size: int = 10_000,
        events: bool = True,
        rebuild_indexes: bool | None = None,
        password: str | None = None,
        now: datetime | None = None,
        progress: Callable[[str], None] | None = None,
        skew: float = 1.2,
        days: float | None = None,
        users: Sequence[User] = (),
        final_only: bool = False,
        seed_providers: bool = True,
        external_ids_from: int | None = None,
    ) -> None:
        """`users`: existing resellers to give the orders to (no new ones are created; `resellers` is
        ignored), their wallets continuing from their balances. `final_only`: every order has ended (a
        history the worker never has to refresh or reconcile). `seed_providers`: create seed providers for
        a kind nothing is on sale for (else that kind is left out). `external_ids_from`: first upstream id,
        to keep clear of ids a live (sandbox) provider hands out."""
        if resellers < 1 and not users:
            raise ValueError("at least one reseller")
        if orders < 0:
            raise ValueError("orders must not be negative")
        self.n_resellers, self.n_orders = (len(users) if users else resellers), orders
        self.existing_users = list(users)
        self.final_only = final_only
        self.seed_providers = seed_providers
        self.rng = random.Random(seed)
        self.batch_size = max(100, batch_size)
        self.with_events = events
        self.rebuild_indexes = rebuild_indexes  # None: when the load is big (PostgreSQL only)
        self.password = password
        self.now = now or timezone.now()
        self.start = self.now - timedelta(days=30 * months if days is None else days)
        self.progress = progress or (lambda line: None)
        self.skew = skew
        self.writer = _Writer()
        self.result = SeedResult()
        self._seq = itertools.count()
        # Heap of ledger movements not yet written: (time, sequence, wallet, kind, amount, order id).
        self._pending: list[tuple] = []
        self._prices: dict[tuple, tuple[Decimal, Decimal, Decimal]] = {}
        self._newest = -1  # the last order of the run is still being placed ("submitting")
        self._balances: dict[int, Decimal] = {}
        self._last_at: dict[int, datetime] = {}
        first_ext = self.rng.randint(10_000, 90_000) * 1000 if external_ids_from is None else external_ids_from
        self._ext = itertools.count(first_ext)
        self.kinds, self.kind_cum = KINDS, KIND_CUM  # narrowed in run() to the kinds on sale
        with translation.override(settings.LANGUAGE_CODE):
            self.charge_reason = gettext("Order #%(id)s")
            self.refund_reason = gettext("Refund for order #%(id)s")
        for model, columns, optional in (
            (Order, ORDER_COLUMNS, ()),
            (OrderRecipient, RECIPIENT_COLUMNS, ()),
            (OrderEvent, EVENT_COLUMNS, ()),
        ):
            _check_columns(model, columns, optional)

    # -- setup ------------------------------------------------------------------------------------------
    def _use_resellers(self) -> None:
        """The orders go to existing resellers; their wallets go on from what they hold now."""
        default_tier = Tier.objects.filter(is_default=True).values_list("pk", flat=True).first()
        wallets = {w.user_id: w for w in (wallet_get(u) for u in self.existing_users)}
        self.users = [(u.pk, wallets[u.pk].pk, u.tier_id or default_tier) for u in self.existing_users]
        for user_id, wallet, _tier in self.users:
            self._balances[wallet] = wallets[user_id].balance
            self._last_at[wallet] = self.start
        self.user_cum = list(itertools.accumulate(1 / (i + 1) ** self.skew for i in range(len(self.users))))
        self.deposit_scale = {w: 1 for _u, w, _t in self.users}

    def _make_resellers(self) -> None:
        existing = max(
            (
                int(name.removeprefix(USERNAME_PREFIX))
                for name in User.objects.filter(username__startswith=USERNAME_PREFIX).values_list("username", flat=True)
                if name.removeprefix(USERNAME_PREFIX).isdigit()
            ),
            default=0,
        )
        tiers = dict(Tier.objects.values_list("name", "pk"))
        default_tier = Tier.objects.filter(is_default=True).values_list("pk", flat=True).first()
        names = [n for n, _s in TIER_SHARE if n in tiers] or [None]
        weights = [s for n, s in TIER_SHARE if n in tiers] or [1]
        hashed = make_password(self.password)  # once: hashing per user would take minutes
        users = []
        for i in range(self.n_resellers):
            name = "VIP" if i < 3 and "VIP" in tiers else self.rng.choices(names, weights)[0]
            number = existing + i + 1
            users.append(
                User(
                    username=f"{USERNAME_PREFIX}{number:05d}",
                    email=f"{USERNAME_PREFIX}{number:05d}@example.com",
                    password=hashed,
                    first_name=f"Reseller {number}",
                    tier_id=tiers.get(name, default_tier),
                    date_joined=self.start - timedelta(days=self.rng.randint(1, 90)),
                )
            )
        User.objects.bulk_create(users, batch_size=2000)
        users = list(
            User.objects.filter(username__in=[u.username for u in users]).order_by("pk").values_list("pk", "tier_id")
        )
        Wallet.objects.bulk_create([Wallet(user_id=pk) for pk, _t in users], batch_size=2000)
        wallets = dict(Wallet.objects.filter(user_id__in=[pk for pk, _t in users]).values_list("user_id", "pk"))
        self.users = [(pk, wallets[pk], tier_id or default_tier) for pk, tier_id in users]
        for _user, wallet, _tier in self.users:
            self._balances[wallet] = ZERO
            self._last_at[wallet] = self.start
        # Zipf-like volume: the i-th reseller orders in proportion to 1 / (i + 1) ** skew.
        self.user_cum = list(itertools.accumulate(1 / (i + 1) ** self.skew for i in range(len(self.users))))
        # Heavy resellers top up in bigger steps.
        self.deposit_scale = {w: 10 if i < 3 else 3 if i < 10 else 1 for i, (_u, w, _t) in enumerate(self.users)}
        self.result.resellers = len(self.users)

    # -- one order -------------------------------------------------------------------------------------
    def _final_status(self, kind: str) -> str:
        roll, acc = self.rng.random(), 0.0
        for status, share in FINAL_MIX[kind]:
            acc += share
            if roll < acc:
                return status
        return COMPLETED

    def _digits(self, n: int) -> str:
        return f"{self.rng.randrange(10**n):0{n}d}"

    def _price(self, product: _Product, tier_id: int, quantity: int) -> tuple[Decimal, Decimal, Decimal]:
        """(unit price, charge, cost) as order_quote computes them; cached, few combinations repeat."""
        key = (product.service_id, tier_id, quantity)
        found = self._prices.get(key)
        if found is None:
            unit_price = product.prices[tier_id]
            found = self._prices[key] = (unit_price, *order_amounts(product.kind, unit_price, product.cost, quantity))
        return found

    def _order(self, order_id: int, created: datetime, orders: list, recipients: list, events: list) -> None:
        rng, dt, digits = self.rng, self.writer.dt, self._digits
        user_id, wallet_id, tier_id = self.users[
            min(len(self.users) - 1, bisect_right(self.user_cum, rng.random() * self.user_cum[-1]))
        ]
        kinds = self.kinds
        kind = kinds[min(len(kinds) - 1, bisect_right(self.kind_cum, rng.random() * self.kind_cum[-1]))]
        products = self.catalogue[kind]
        product = products[min(len(products) - 1, int(len(products) * rng.random() ** 2.2))]  # popular first
        quantity, segments, target, operator, message, n_recipients = 1, 0, "", "", "", 0
        if kind == SMM:
            quantity = max(product.min_qty, min(product.max_qty, rng.choice((100, 250, 500, 1000, 2000, 5000))))
            target = smm_link(product.name, digits(11))
        elif kind == SMS:
            n_recipients = rng.choice((1, 1, 1, 2, 3, 5))
            message = rng.choice(SMS_TEXTS).replace("{code}", digits(6))
            segments = 1 if len(message) <= 160 else 2
            quantity = segments * n_recipients
        elif kind == OTP:
            operator = "any"
        else:
            target = "08" + digits(10)
        unit_price, charge, cost = self._price(product, tier_id, quantity)
        age = (self.now - created).total_seconds()
        low, high = RUN_TIME[kind]
        run = rng.uniform(low, high)
        if self.final_only:
            run = min(run, age * rng.uniform(0.2, 0.9))  # it has ended by now, however young
        unknown = not self.final_only and rng.random() < UNKNOWN_SHARE
        refused = not unknown and rng.random() < REFUSED_SHARE
        if not self.final_only and ((age < 120 and rng.random() < 0.3) or order_id == self._newest):  # in flight
            status = SUBMITTING
        elif unknown:
            status = UNKNOWN
        elif refused:
            status, run = FAILED, rng.uniform(0.2, 3)
        elif run > age:  # still running upstream
            status = PROCESSING if kind == SMS or rng.random() < 0.5 else PENDING
        else:
            status = self._final_status(kind)
        refused = refused and status == FAILED  # an order still in flight has no answer yet, refusal or not
        final = status in FINAL
        finished = min(created + timedelta(seconds=run), self.now) if final else None
        external_id = "" if status in (SUBMITTING, UNKNOWN) or refused else str(next(self._ext))

        otp_code = otp_sms = voucher = error = raw_status = ""
        start_count = remains = None
        rejected_parts = 0
        if refused:
            raw_status = "ProviderRejected"
            error = "Penyedia menolak pesanan. Saldo Anda sudah dikembalikan."
        elif status == UNKNOWN:
            raw_status = "ProviderOutcomeUnknown"
            error = "Penyedia belum mengonfirmasi pesanan ini; kami sedang memeriksanya."
        elif kind == OTP:
            target = "62812" + digits(8)
            raw_status = RAW_STATUS[OTP].get(status, "Pending")
            if status == COMPLETED or (status == PROCESSING and rng.random() < 0.5):
                otp_code = digits(6)
                otp_sms = f"<#> {otp_code} adalah kode verifikasi {product.name.split(' (')[0]} Anda."
        elif kind == SMM:
            start_count = rng.randint(0, 50_000)
            raw_status = RAW_STATUS[SMM].get(status, "Pending")
            remains = {COMPLETED: 0, CANCELED: quantity, FAILED: quantity}.get(status)
            if status == PARTIAL:
                remains = max(1, int(quantity * rng.uniform(0.1, 0.6)))
            elif status == PROCESSING:
                remains = int(quantity * rng.random())
        elif kind == PREPAID:
            raw_status = RAW_STATUS[PREPAID].get(status, "pending")
            if status == COMPLETED:
                voucher = "SN" + digits(16)
        if kind == SMS:
            if refused or status == SUBMITTING:  # no gateway answer per number
                states = [REJECTED if refused else QUEUED] * n_recipients
            else:
                raw_status = "delivered" if final else "10"
                if status == COMPLETED:
                    states = [DELIVERED] * n_recipients
                elif status == FAILED:
                    states = [REJECTED] * n_recipients
                elif status == PARTIAL and n_recipients == 1:
                    status, states = COMPLETED, [DELIVERED]
                elif status == PARTIAL:
                    bad = rng.randint(1, n_recipients - 1)
                    states = [DELIVERED] * (n_recipients - bad) + [rng.choice((REJECTED, UNDELIVERED))] * bad
                else:
                    states = [rng.choice((QUEUED, SENT)) for _ in range(n_recipients)]
            rejected_parts = segments * states.count(REJECTED)  # every number gets the same text
            stamp = dt(finished or created)
            for i, state in enumerate(states):
                gateway_id = "" if state == REJECTED or not external_id else f"{external_id}-{i}"
                code = DELIVERY_CODE.get(state, "10") if external_id else ""
                recipients.append((order_id, "628" + digits(10), "", 0, gateway_id, state, code, state, stamp))
        refund = ZERO
        if final:  # what the order code refunds when an order ends so
            refund = refund_amount(
                kind=kind,
                to=status,
                charge=charge,
                unit_price=unit_price,
                remains=remains,
                otp_code=otp_code,
                rejected_parts=rejected_parts,
            )
        updated = finished or (created + timedelta(seconds=min(age, rng.uniform(1, 600))))
        orders.append(
            (
                order_id,
                user_id,
                kind,
                product.service_id,
                product.provider_id,
                status,
                raw_status,
                external_id,
                unit_price,
                product.cost,
                quantity,
                charge,
                cost,
                refund,
                target,
                operator,
                message,
                segments,
                None,
                otp_code,
                otp_sms,
                voucher,
                start_count,
                remains,
                "",
                error,
                "api" if rng.random() < 0.35 else "web",
                "",
                "",
                "",
                dt(created),
                dt(updated),
                dt(finished),
            )
        )
        heapq.heappush(self._pending, (created, next(self._seq), wallet_id, CHARGE, -charge, order_id))
        if refund > 0:
            heapq.heappush(self._pending, (finished, next(self._seq), wallet_id, REFUND, refund, order_id))
        if self.with_events:
            events.append((order_id, dt(created), "", SUBMITTING, PLACED, "", None))
            accepted = dt(created + timedelta(seconds=rng.uniform(0.2, 2.5)))
            if refused:
                events.append((order_id, dt(finished), SUBMITTING, FAILED, REFUSED, "out of stock", None))
            elif status == UNKNOWN:
                events.append((order_id, accepted, SUBMITTING, UNKNOWN, LOST, "read timeout", None))
            elif status != SUBMITTING:
                first = PROCESSING if kind == SMS else PENDING
                events.append((order_id, accepted, SUBMITTING, first, ACCEPTED, "", None))
                if status != first:
                    code, reason = REFRESHED, ""
                    if kind == OTP and status == CANCELED:
                        code, reason = OTP_OVER, "no code"
                    events.append((order_id, dt(finished or updated), first, status, code, reason, None))

    # -- ledger ------------------------------------------------------------------------------------------
    def _flush_ledger(self, until: datetime | None) -> tuple[int, int]:
        """Post pending movements up to `until` (all when None) in time order, with a deposit where a charge
        would go below zero. Returns (entries, deposits) written."""
        pending, due = self._pending, []
        while pending and (until is None or pending[0][0] <= until):
            due.append(heapq.heappop(pending))
        if not due:
            return 0, 0
        rng, balances, last_at = self.rng, self._balances, self._last_at
        charge_reason, refund_reason = self.charge_reason, self.refund_reason
        postings: list[Posting] = []
        deposits: list[int] = []  # where in `postings`
        for at, _seq, wallet, kind, amount, order_id in due:
            balance = balances[wallet]  # to know when a reseller must top up; the ledger keeps the books
            if kind == CHARGE and balance + amount < 0:
                step = rng.choice(DEPOSIT_STEPS) * self.deposit_scale[wallet]
                topup = Decimal(math.ceil((step - balance - amount) / step) * step).quantize(CENT)
                when = max(last_at[wallet], at - timedelta(seconds=rng.uniform(30, 1800)))
                balance += topup
                deposits.append(len(postings))
                postings.append(Posting(wallet, DEPOSIT, topup, when, deposit_method=rng.choice(DepositMethod.values)))
            reason = (charge_reason if kind == CHARGE else refund_reason) % {"id": order_id}
            postings.append(Posting(wallet, kind, amount, at, order_id, reason))
            balances[wallet] = balance + amount
            last_at[wallet] = at
        for i in deposits:  # when each top-up was asked for
            asked = postings[i].at - timedelta(seconds=rng.uniform(60, 6 * 3600))
            postings[i] = postings[i]._replace(requested_at=asked)
        with translation.override(settings.LANGUAGE_CODE):  # the deposits' reasons, as the seeder's own
            ledger_post_many(postings)
        return len(postings), len(deposits)

    def _drop_indexes(self) -> list[str]:
        """For a load at least as big as what the tables hold, PostgreSQL builds an index from sorted rows
        several times faster than it maintains it row by row (5x on the orders table). Drop the plain
        (non-unique) indexes of the bulk tables inside this transaction and return their definitions to
        rebuild after the load; unique indexes and primary keys stay, so uniqueness is checked as rows arrive.
        An interrupted seed rolls the drop back with everything else."""
        if not self.writer.pg or self.rebuild_indexes is False:
            return []
        tables = [m._meta.db_table for m in (Order, LedgerEntry, OrderEvent, OrderRecipient)]
        with connection.cursor() as cursor:
            if self.rebuild_indexes is None:
                cursor.execute("SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [tables[0]])
                if self.n_orders < 50_000 or self.n_orders < cursor.fetchone()[0]:
                    return []
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = ANY(%s) "
                "AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.relname",
                [tables],
            )
            found = cursor.fetchall()
            for name, _definition in found:
                cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _name, definition in found]

    def _rebuild_indexes(self, definitions: list[str]) -> None:
        if not definitions:
            return
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for definition in definitions:
                cursor.execute(definition)
        self.progress(f"{len(definitions)} indexes rebuilt in {time.monotonic() - started:.1f} s")

    def _skip_fk_triggers(self) -> None:
        """PostgreSQL checks every foreign key of every copied row with a deferred trigger, queued until
        commit: more than half of the load time. The rows are consistent by construction (ids come from the
        database or from this batch), so a superuser session skips those triggers for this transaction only.
        Check and unique constraints still apply. Without superuser rights the triggers simply run."""
        if not self.writer.pg:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")

    # -- run -----------------------------------------------------------------------------------------------
    def run(self) -> SeedResult:
        started = time.monotonic()
        with transaction.atomic():
            self._skip_fk_triggers()
            self.catalogue = catalogue_ensure(self.rng, create=self.seed_providers)
            on_sale = [(k, share) for k, share in KIND_SHARE if self.catalogue.get(k)]
            if not on_sale:
                raise RuntimeError("nothing is on sale: no order to seed")
            self.kinds = [k for k, _s in on_sale]
            self.kind_cum = list(itertools.accumulate(share for _k, share in on_sale))
            dropped = self._drop_indexes()
            if self.existing_users:
                self._use_resellers()
            else:
                self._make_resellers()
            self.progress(f"{self.result.resellers:,} resellers and wallets created")
            timeline = _Timeline(self.start, self.now)
            done = 0
            while done < self.n_orders:
                count = min(self.batch_size, self.n_orders - done)
                first_id = self.writer.reserve(Order, count)
                if done + count == self.n_orders:
                    self._newest = first_id + count - 1
                orders: list[tuple] = []
                recipients: list[tuple] = []
                events: list[tuple] = []
                created = self.start
                for i in range(count):
                    created = timeline.at((done + i + self.rng.random()) / self.n_orders)
                    self._order(first_id + i, created, orders, recipients, events)
                self.writer.write(Order, ORDER_COLUMNS, orders)
                self.writer.write(OrderRecipient, RECIPIENT_COLUMNS, recipients)
                self.writer.write(OrderEvent, EVENT_COLUMNS, events)
                # Every later order is created at or after `created`: movements up to it are final in order.
                entries, deposits = self._flush_ledger(created)
                done += count
                self.result.orders = done
                self.result.recipients += len(recipients)
                self.result.events += len(events)
                self.result.ledger_entries += entries
                self.result.deposits += deposits
                elapsed = time.monotonic() - started
                self.progress(
                    f"{done:,}/{self.n_orders:,} orders ({100 * done / self.n_orders:.0f}%), "
                    f"{self.result.ledger_entries:,} ledger entries, {elapsed:.1f} s ({done / elapsed:,.0f} orders/s)"
                )
            entries, deposits = self._flush_ledger(None)
            self.result.ledger_entries += entries
            self.result.deposits += deposits
            self._rebuild_indexes(dropped)
        if self.writer.pg:
            with connection.cursor() as cursor:
                for model in (Order, LedgerEntry, OrderEvent, OrderRecipient, DepositRequest, Wallet, User):
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        self.result.seconds = time.monotonic() - started
        return self.result


def seed_demo(*, resellers: int, orders: int, **options) -> SeedResult:
    """Seed `resellers` new resellers and `orders` new orders (see the module notes and Seeder's options)."""
    return Seeder(resellers=resellers, orders=orders, **options).run()
