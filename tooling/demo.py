"""Demo data for `make demo`: an operator, a reseller with a deposit, one sandbox provider of each kind with
its catalogue synced, and (first set-up only) a few weeks of the reseller's order history, so the dashboard,
order list and reports have something to show. Safe to run again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import reseller_create, wallet_credit, wallet_get
from orders.models import Order
from providers.adapters.errors import ProviderError
from providers.models import Provider
from providers.sync import catalogue_sync
from tooling.sandbox_providers import sandbox_providers_ensure
from tooling.seed import SeedResult, seed_demo

DEMO_OPERATOR = "operator"
DEMO_RESELLER = "reseller"
DEMO_DEPOSIT = 1_000_000
HISTORY_DAYS = 28
HISTORY_ORDERS = 420  # ~15 a day: enough for the charts and reports, a second to write
# Upstream ids of the history: far above what the sandbox hands out (its ids count from 100,000 to
# 18,319,000 up), so a live order's id never meets a seeded one of the same provider.
HISTORY_EXTERNAL_IDS_FROM = 900_000_000


@dataclass
class DemoCredentials:
    operator_password: str
    reseller_password: str


def _fresh_password() -> str:
    # A new random password on every run: a demo never has a fixed password anyone could guess.
    return secrets.token_urlsafe(12)


@transaction.atomic
def ensure_demo_users() -> DemoCredentials:
    if getattr(settings, "PRODUCTION", False):
        raise RuntimeError("the demo data is not for production")
    operator_password, reseller_password = _fresh_password(), _fresh_password()

    operator = User.objects.filter(username=DEMO_OPERATOR).first()
    if operator is None:
        operator = User.objects.create_superuser(DEMO_OPERATOR, email="", password=operator_password)
    else:
        operator.set_password(operator_password)
        operator.save(update_fields=["password"])
    wallet_get(operator)

    reseller = User.objects.filter(username=DEMO_RESELLER).first()
    if reseller is None:
        reseller = reseller_create(username=DEMO_RESELLER, password=reseller_password)
    else:
        reseller.set_password(reseller_password)
        reseller.save(update_fields=["password"])
    return DemoCredentials(operator_password, reseller_password)


def ensure_demo_deposit() -> None:
    """The demo balance, once (its idempotency key): after the history, so it is the newest entry."""
    wallet_credit(
        user=User.objects.get(username=DEMO_RESELLER),
        amount=DEMO_DEPOSIT,
        reason="Saldo demo",
        actor=User.objects.get(username=DEMO_OPERATOR),
        idempotency_key="demo:deposit",
    )


def ensure_demo_history(
    reseller: User | None = None, *, days: float = HISTORY_DAYS, orders: int = HISTORY_ORDERS
) -> SeedResult | None:
    """Weeks of ended orders of every kind for the demo reseller (or `reseller`), charged, refunded and
    topped up through the ledger services (the seeder's ledger_post_many). Only while the reseller has no
    order at all, so a second set-up adds nothing; None then. Uses only the products the synced sandbox
    providers sell, and every order has ended: the worker never refreshes or reconciles history."""
    reseller = reseller or User.objects.get(username=DEMO_RESELLER)
    if Order.objects.filter(user=reseller).exists():
        return None
    return seed_demo(
        resellers=0,
        orders=orders,
        users=[reseller],
        days=days,
        final_only=True,
        seed_providers=False,
        external_ids_from=HISTORY_EXTERNAL_IDS_FROM,
        batch_size=orders,
    )


def ensure_sandbox_providers() -> str:
    providers = sandbox_providers_ensure(settings.PANEL_PUBLIC_URL)
    return f"Sandbox providers: {', '.join(p.name for p in providers)}"


def sync_catalogues() -> list[str]:
    """Sync every enabled provider; one line per provider (failures reported, not raised)."""
    lines = []
    for provider in Provider.objects.filter(enabled=True).order_by("name"):
        try:
            lines.append(f"  {provider.name}: {catalogue_sync(provider)}")
        except ProviderError as exc:
            lines.append(f"  {provider.name}: sync failed: {exc}")
    return lines
