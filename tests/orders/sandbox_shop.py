"""A panel wired to the upstream simulator over real HTTP (`live_server`), for the orders end-to-end tests.

`open_shop(root, settings)` creates the five sandbox providers pointed at `root` (the way the demo does),
syncs the catalogues, prices them, and picks one product of each kind. Time passes by moving timestamps
back (sandbox orders with `rewind`, panel orders with `age_orders`), never by sleeping.

Delivery reports: the sandbox sends them from daemon timer threads. On the in-memory SQLite test
database every thread has its own connection to one shared cache, where two concurrent writers fail at
once with "database table is locked" instead of waiting; a report whose send crashes that way stays
`sending` for ever (see the report). So the SMS accounts get a DLR delay beyond the sandbox's timer
horizon (no timer is armed) and `deliver_due_reports` sends the due reports one after another through
the sandbox's own `dlr.deliver`: a real HTTP request to the panel's `/callbacks/<id>/<token>/` on the
live server, without threads racing each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db.models import F
from django.utils import timezone

from accounts.money import floor_money
from orders.models import Order
from providers.adapters.types import DeliveryState, ProductKind, Status
from providers.models import Provider, Service
from providers.pricing import pricing_refresh
from providers.sandbox import dlr
from providers.sandbox.models import DlrState, Fault, FaultScope, SandboxAccount, SandboxOrder
from providers.sandbox.protocols.osimesa import osimesa_products
from providers.sandbox.protocols.smm_v2 import smm_services
from providers.sandbox.protocols.virtusim import virtusim_services
from providers.sync import catalogue_sync
from tests.providers.e2e_helpers import closed_port, rewind, wait_for
from tooling.sandbox_providers import sandbox_providers_ensure

__all__ = [
    "ACTING_FAULTS",
    "FAULTS",
    "LONG_DLR",
    "SLOW_FAULTS",
    "STEP",
    "Shop",
    "age_orders",
    "closed_port",
    "deliver_due_reports",
    "expected_refund",
    "open_shop",
    "rewind",
    "smm_outcome",
    "wait_for",
]

STEP = 60  # seconds: OTP code delay, SMM step, prepaid processing time in the sandbox
LONG_DLR = 4000  # beyond providers.sandbox.dlr.MAX_TIMER_SECONDS: no timer thread is armed
FAULT_DELAY = 1  # seconds the sandbox sleeps for `timeout` / `lose_reply` (an integer field)
FAST_READ_TIMEOUT = 0.5  # the client's read timeout while a slow fault is on
READ_TIMEOUT = 5.0  # otherwise: generous, so a busy machine never turns a normal reply into a fault
FAULTS = [f.value for f in Fault if f != Fault.NONE]
SLOW_FAULTS = {Fault.TIMEOUT.value, Fault.LOSE_REPLY.value}
# Faults after which the action happened upstream (ARCHITECTURE: Sandbox, faults).
ACTING_FAULTS = {Fault.INVALID_JSON.value, Fault.EMPTY.value, Fault.WRONG_TYPES.value, Fault.LOSE_REPLY.value}
MESSAGE = "Kode promo Anda: HEMAT50. Berlaku sampai akhir bulan."  # GSM-7, one segment


@dataclass
class Shop:
    root: str
    settings: Any
    providers: dict[str, Provider]  # by protocol kind
    accounts: dict[str, SandboxAccount]  # by protocol kind
    otp: Service
    otp_services: list[Service]  # in stock, distinct names (reconciliation matches OTP orders by name)
    smm: Service  # numeric id, cancel allowed
    prepaid: Service  # ready, no cutoff window
    secrets: list[str] = field(default_factory=list)  # every upstream credential, to check nothing leaks

    # --- sandbox switches -------------------------------------------------------------------------
    def account(self, kind: str) -> SandboxAccount:
        account = self.accounts[kind]
        account.refresh_from_db()
        return account

    def set_fault(self, kind: str, fault: str, scope: str = FaultScope.ALL) -> None:
        SandboxAccount.objects.filter(pk=self.accounts[kind].pk).update(fault=fault, fault_scope=scope)

    def clear_faults(self) -> None:
        SandboxAccount.objects.filter(pk__in=[a.pk for a in self.accounts.values()]).update(
            fault=Fault.NONE, fault_scope=FaultScope.ALL
        )

    @contextmanager
    def fault(self, kind: str, fault: str, scope: str) -> Iterator[None]:
        """The account of `kind` answers with `fault` (for `scope`) inside the block; a slow fault
        shortens the client's read timeout below the sandbox's sleep for the block only."""
        self.set_fault(kind, fault, scope)
        try:
            with self.fast_timeout(fault in SLOW_FAULTS):
                yield
        finally:
            self.clear_faults()

    @contextmanager
    def fast_timeout(self, on: bool = True) -> Iterator[None]:
        if on:
            self.settings.PROVIDER_READ_TIMEOUT = FAST_READ_TIMEOUT
        try:
            yield
        finally:
            self.settings.PROVIDER_READ_TIMEOUT = READ_TIMEOUT

    @contextmanager
    def unreachable(self, kind: str) -> Iterator[None]:
        """Point the provider of `kind` at a local port nobody listens on (connection refused)."""
        provider = self.providers[kind]
        real = provider.base_url
        Provider.objects.filter(pk=provider.pk).update(base_url=f"http://127.0.0.1:{closed_port()}/api")
        try:
            yield
        finally:
            Provider.objects.filter(pk=provider.pk).update(base_url=real)

    def sandbox_orders(self, kind: str) -> list[SandboxOrder]:
        return list(SandboxOrder.objects.filter(account=self.accounts[kind]).order_by("pk"))

    def pass_time(self, seconds: float, kind: str | None = None) -> None:
        """Make `seconds` pass at the sandbox (all accounts, or one kind's)."""
        if kind is None:
            rewind(seconds, account__in=list(self.accounts.values()))
        else:
            rewind(seconds, account=self.accounts[kind])

    # --- requests the way a reseller makes them -----------------------------------------------------
    def otp_request(self, service: Service | None = None) -> dict[str, Any]:
        return {"kind": "otp", "service": service or self.otp, "operator": "any"}

    def smm_request(self, link: str = "https://instagram.com/p/e2e", quantity: int = 1000) -> dict[str, Any]:
        return {"kind": "smm", "service": self.smm, "link": link, "quantity": quantity}

    def prepaid_request(self, target: str = "081234567890") -> dict[str, Any]:
        return {"kind": "prepaid", "service": self.prepaid, "target": target}

    def sms_request(self, sms_type: str, *numbers: str, message: str = MESSAGE) -> dict[str, Any]:
        return {"kind": "sms", "sms_type": sms_type, "recipients": "\n".join(numbers), "message": message}


def ensure_default_pricing() -> None:
    """The tiers and markup rules a fresh install gets from its data migrations. A transactional test
    database is flushed after each test, which takes them away; the migrations' own functions put them
    back (cheaper than `serialized_rollback`, which reloads every content type and permission)."""
    import_module("accounts.migrations.0002_default_tiers").create_tiers(apps, None)
    import_module("providers.migrations.0003_default_markup_rules").create_rules(apps, None)


def open_shop(root: str, settings: Any) -> Shop:
    """Sandbox providers of every kind at `root`, catalogues synced and priced, fast sandbox clocks."""
    ensure_default_pricing()
    settings.SANDBOX_ENABLED = True
    settings.PANEL_PUBLIC_URL = root  # RajaSMS `callbackurl` and the masking DLR URL point at the live server
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0
    settings.PROVIDER_READ_TIMEOUT = READ_TIMEOUT
    providers = {p.kind: p for p in sandbox_providers_ensure(root)}
    for kind in ("virtusim", "smm_v2", "osimesa"):
        catalogue_sync(providers[kind])
    pricing_refresh()
    accounts = {a.kind: a for a in SandboxAccount.objects.filter(name__startswith="demo-")}
    SandboxAccount.objects.filter(pk__in=[a.pk for a in accounts.values()]).update(
        otp_delay_seconds=STEP,
        smm_step_seconds=STEP,
        prepaid_delay_seconds=STEP,
        dlr_delay_seconds=LONG_DLR,
        fault=Fault.NONE,
        fault_scope=FaultScope.ALL,
        fault_delay_seconds=FAULT_DELAY,
    )
    for account in accounts.values():
        account.refresh_from_db()

    in_stock = [s for s in virtusim_services() if s["tersedia"] != "0"]
    names_seen: set[str] = set()
    otp_ids = []
    for item in in_stock:
        if item["name"] not in names_seen:
            names_seen.add(item["name"])
            otp_ids.append(item["id"])
    otp_services = [Service.objects.get(provider=providers["virtusim"], external_id=i) for i in otp_ids]
    smm_item = next(s for s in smm_services() if s["service"].isdigit() and s["cancel"] and s["refill"])
    prepaid_item = next(
        p for p in osimesa_products() if p["status"] == "ready" and p["cutoff"]["start"] == p["cutoff"]["end"]
    )
    secrets = [v for a in accounts.values() for v in (a.api_key, a.password) if v]
    return Shop(
        root=root,
        settings=settings,
        providers=providers,
        accounts=accounts,
        otp=otp_services[0],
        otp_services=otp_services,
        smm=Service.objects.get(provider=providers["smm_v2"], external_id=smm_item["service"]),
        prepaid=Service.objects.get(provider=providers["osimesa"], external_id=prepaid_item["code"]),
        secrets=secrets,
    )


def age_orders(seconds: float, **filters: Any) -> None:
    """Make panel orders older (OTP expiry window, report polling delay)."""
    Order.objects.filter(**filters).update(created_at=F("created_at") - timedelta(seconds=seconds))


def deliver_due_reports(account: SandboxAccount) -> int:
    """Send the account's due delivery reports now, one after another (real HTTP to the callback URL);
    returns how many the receiver accepted."""
    due = SandboxOrder.objects.filter(account=account, dlr_state=DlrState.PENDING, dlr_at__lte=timezone.now())
    return sum(dlr.deliver(pk) for pk in due.order_by("pk").values_list("pk", flat=True))


def expected_refund(order: Order) -> Decimal:
    """The refund rules of ARCHITECTURE (Orders), written out again independently of `refund_due`."""
    status = Status(order.status)
    if not status.is_final:
        return Decimal("0")
    if order.kind == ProductKind.SMS:
        rejected = order.recipients.filter(state=DeliveryState.REJECTED).count()
        return min(floor_money(order.unit_price * order.segments * rejected), order.charge)
    if status in (Status.CANCELED, Status.FAILED):
        return Decimal("0") if order.kind == ProductKind.OTP and order.otp_code else order.charge
    if status == Status.PARTIAL and order.kind == ProductKind.SMM:
        return min(floor_money(Decimal(order.remains or 0) * order.unit_price / 1000), order.charge)
    return Decimal("0")


def smm_outcome(link: str) -> str:
    """The final panel status the sandbox's link keyword leads to."""
    lowered = link.lower()
    if "partial" in lowered:
        return "partial"
    if "cancel" in lowered:
        return "canceled"
    if "error" in lowered:
        return "failed"
    return "completed"
