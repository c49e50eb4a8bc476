"""Demo data for `make demo`: an operator, a reseller with a deposit, and (once the provider layer is
present) one sandbox provider of each kind with its catalogue synced. Safe to run again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import reseller_create, wallet_credit, wallet_get
from providers.adapters.errors import ProviderError
from providers.models import Provider
from providers.sync import catalogue_sync
from tooling.sandbox_providers import sandbox_providers_ensure

DEMO_OPERATOR = "operator"
DEMO_RESELLER = "reseller"
DEMO_DEPOSIT = 1_000_000


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
    wallet_credit(
        user=reseller, amount=DEMO_DEPOSIT, reason="Saldo demo", actor=operator, idempotency_key="demo:deposit"
    )
    return DemoCredentials(operator_password, reseller_password)


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
