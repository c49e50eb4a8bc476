"""Writes and upstream calls for providers: credentials, SMS routes, balances, connection tests."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.money import format_count, format_rupiah
from providers.adapters import ADAPTERS, credential_fields, get_adapter
from providers.adapters.base import ProviderAdapter
from providers.adapters.errors import ProviderError, ProviderNotSupported, Refusal
from providers.adapters.guard import GuardLimits, ProviderGuard, guard_for
from providers.adapters.types import Capability, ProductKind, ProviderBalance, ProviderConfig
from providers.crypto import decrypt_json, encrypt_json
from providers.models import ROUTE_LABELS, Provider, Service
from providers.pricing import pricing_refresh

logger = logging.getLogger(__name__)

DEFAULT_SMS_COST = Decimal("350")


def provider_credentials(provider: Provider) -> dict[str, str]:
    return decrypt_json(provider.credentials_enc)


def provider_set_credentials(provider: Provider, **values: str | None) -> None:
    """Merge non-empty values into the encrypted credentials (an empty value keeps the stored one)."""
    creds = provider_credentials(provider)
    for name, value in values.items():
        if name not in credential_fields():
            raise ValueError(f"unknown credential {name!r}")
        if value:
            creds[name] = value.strip()
    provider.credentials_enc = encrypt_json(creds)


def provider_callback_url(provider: Provider) -> str:
    path = reverse("provider_callback", kwargs={"provider_id": provider.pk, "token": provider.callback_token})
    return f"{settings.PANEL_PUBLIC_URL}{path}"


def _option_int(options: dict, name: str, default: int) -> int:
    try:
        value = int(options.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def provider_guard_limits(provider: Provider) -> GuardLimits:
    """Bulkhead and breaker limits: the settings, or the provider's own options where the operator set them."""
    options = provider.options if isinstance(provider.options, dict) else {}
    return GuardLimits(
        max_in_flight=_option_int(options, "max_in_flight", settings.PROVIDER_MAX_IN_FLIGHT),
        failures=_option_int(options, "breaker_failures", settings.PROVIDER_BREAKER_FAILURES),
        reset_seconds=float(_option_int(options, "breaker_reset_seconds", settings.PROVIDER_BREAKER_RESET_SECONDS)),
    )


def provider_config(provider: Provider) -> ProviderConfig:
    creds = provider_credentials(provider)
    return ProviderConfig(
        base_url=provider.base_url,
        api_key=creds.get("api_key", ""),
        user_id=creds.get("user_id", ""),
        username=creds.get("username", ""),
        password=creds.get("password", ""),
        credentials=creds,
        name=provider.name,
        callback_url=provider_callback_url(provider) if provider.pk else "",
        connect_timeout=settings.PROVIDER_CONNECT_TIMEOUT,
        read_timeout=settings.PROVIDER_READ_TIMEOUT,
        options=dict(provider.options or {}),
        currency=provider.currency.strip().upper(),
        guard_key=f"provider:{provider.pk}" if provider.pk else "",
        guard_limits=provider_guard_limits(provider),
    )


def provider_adapter(provider: Provider, **config_overrides) -> ProviderAdapter:
    config = provider_config(provider)
    if config_overrides:
        config = replace(config, **config_overrides)
    return get_adapter(provider.kind, config)


def provider_guard(provider: Provider) -> ProviderGuard:
    """The bulkhead and breaker this process keeps for `provider`."""
    return guard_for(f"provider:{provider.pk}", provider.name, provider_guard_limits(provider))


@transaction.atomic
def provider_save(
    *,
    name: str,
    kind: str,
    base_url: str,
    api_key: str | None = None,
    user_id: str | None = None,
    username: str | None = None,
    password: str | None = None,
    credentials: dict[str, str] | None = None,
    sms_cost: Decimal | None = None,
    options: dict | None = None,
) -> tuple[Provider, bool]:
    """Create or update the provider called `name`; SMS gateways get their routes."""
    if kind not in ADAPTERS:
        raise ValueError(f"unknown provider kind {kind!r}; known: {', '.join(ADAPTERS)}")
    provider = Provider.objects.select_for_update().filter(name=name).first()
    created = provider is None
    if created:
        provider = Provider(name=name)
    provider.kind = kind
    provider.base_url = base_url.rstrip("/") if provider.sms_routes else base_url
    if options is not None:
        provider.options = options
    secrets = {"api_key": api_key, "user_id": user_id, "username": username, "password": password}
    provider_set_credentials(provider, **{**secrets, **(credentials or {})})
    provider.full_clean(exclude=["credentials_enc", "callback_token"])
    provider.save()
    sms_routes_ensure(provider, cost=sms_cost)
    return provider, created


def sms_routes_ensure(provider: Provider, cost: Decimal | None = None) -> list[Service]:
    """The SMS routes a gateway offers, as Services with an editable cost per SMS."""
    routes = []
    for priority, route in enumerate(provider.sms_routes, start=1):
        service, created = Service.objects.get_or_create(
            provider=provider,
            external_id=route,
            defaults={
                # The type alone: resellers see this name (CSV, API), and never the supplier behind a route.
                "name": ROUTE_LABELS[route],
                "category": ROUTE_LABELS[route],
                "kind": ProductKind.SMS,
                "cost": cost if cost is not None else DEFAULT_SMS_COST,
                "min_qty": 1,
                "max_qty": 1000,
                "route_priority": priority * 10,
            },
        )
        if not created and cost is not None and service.cost != cost:
            service.cost = cost
            service.save(update_fields=["cost"])
        routes.append(service)
    pricing_refresh([route.pk for route in routes])
    return routes


def provider_fetch_balance(provider: Provider) -> ProviderBalance:
    """Ask the upstream for its balance and remember it. Raises ProviderError (recorded too)."""
    try:
        balance = provider_adapter(provider).fetch_balance()
    except ProviderError as exc:
        Provider.objects.filter(pk=provider.pk).update(last_error=str(exc)[:500])
        raise
    now = timezone.now()
    expiry = {"balance_expires_on": balance.expires_on, "balance_expires_text": balance.expires[:40]}
    Provider.objects.filter(pk=provider.pk).update(
        last_balance=balance.amount, last_balance_at=now, last_error="", **expiry
    )
    provider.last_balance, provider.last_balance_at, provider.last_error = balance.amount, now, ""
    provider.balance_expires_on, provider.balance_expires_text = expiry.values()
    said = (balance.currency or "").strip().upper()[:10]
    known = provider.currency.strip().upper()
    if said and not known:  # learned once; an operator's setting is never overwritten
        Provider.objects.filter(pk=provider.pk, currency="").update(currency=said)
        provider.currency = said
    elif said and said != known:
        provider_error_noted(provider, ProviderError(f"balance in {said}, but the provider's currency is {known}"))
    return balance


def provider_record_error(provider: Provider, message: str) -> None:
    """Show an upstream problem on the provider's row (`last_error`: the admin's provider list and the
    upstream-balances page); the next successful balance check clears it."""
    Provider.objects.filter(pk=provider.pk).update(last_error=message[:500])
    provider.last_error = message[:500]


def provider_error_noted(provider: Provider, exc: ProviderError) -> None:
    """Show an upstream failure to operators (the provider's `last error` in the admin)."""
    logger.warning("%s: %s", provider, exc)
    provider_record_error(provider, str(exc))


def provider_refusal_noted(provider: Provider, service: Service | None, exc: ProviderError) -> None:
    """Act on what a refusal means (`exc.refusal`, read by the adapter from the vendor's documented text):
    a product out of numbers is off sale until the next sync says otherwise, a product gone upstream is
    disabled like one that vanished from the catalogue, and the refusals only an operator can fix (our
    credentials, our balance at the provider, a request the provider cannot read) are shown to operators."""
    refusal = exc.refusal
    if refusal is None:
        return
    if service is not None and refusal == Refusal.OUT_OF_STOCK:
        Service.objects.filter(pk=service.pk).update(in_stock=False, stock=0)
    elif service is not None and refusal == Refusal.NO_SERVICE:
        Service.objects.filter(pk=service.pk).update(is_active=False)
    if refusal in (Refusal.AUTH, Refusal.PROVIDER_FUNDS, Refusal.BAD_REQUEST, Refusal.NO_SERVICE):
        provider_error_noted(provider, exc)


def provider_test_connection(provider: Provider) -> str:
    """One harmless authenticated call: balance where the protocol has it, else the catalogue."""
    adapter = provider_adapter(provider)
    if adapter.has(Capability.BALANCE):
        try:
            balance = provider_fetch_balance(provider)
        except ProviderNotSupported:
            pass
        else:
            amount = (
                format_rupiah(balance.amount) if balance.currency == "IDR" else f"{balance.amount} {balance.currency}"
            )
            return _("OK, balance %(amount)s") % {"amount": amount}
    count = len(adapter.fetch_services())
    return ngettext("OK, %(n)s service offered", "OK, %(n)s services offered", count) % {"n": format_count(count)}
