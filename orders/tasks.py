"""django-q2 tasks. Each is idempotent and safe to run concurrently with itself: work is claimed with
guarded updates and the ledger's unique constraints are the last line. Schedules: setup_schedules."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def refresh_orders() -> str:
    from orders.delivery import callbacks_apply
    from orders.refresh import refresh_tick

    applied = callbacks_apply()
    stats = refresh_tick()
    return f"{stats}; {applied} delivery reports applied"


def submit_orders() -> str:
    """Send accepted orders upstream (orders.submitter); first settle orders nobody is sending."""
    from orders.submission import submissions_sweep
    from orders.submitter import submit_orders as run

    swept = submissions_sweep()
    stats = run()
    return f"{stats}; {swept['interrupted']} interrupted sends marked unknown"


def apply_callbacks() -> str:
    from orders.delivery import callbacks_apply

    return f"{callbacks_apply()} delivery reports applied"


def expire_otp_orders() -> str:
    from orders.refresh import otp_expire

    return f"{otp_expire()} OTP orders finished"


def poll_sms_reports() -> str:
    from orders.delivery import callbacks_apply, reports_poll

    return f"{callbacks_apply()} callbacks applied, {reports_poll()} SMS orders settled from reports"


def reconcile_orders() -> str:
    from orders.reconcile import reconcile_unknown

    return str(reconcile_unknown())


def reconcile_sms_reports() -> str:
    """Yesterday's (WIB) SMS gateway reports against the panel's SMS, once a day per provider (the
    hourly schedule retries a day whose run failed). Information for operators: no money moves."""
    from orders.reconcile import sms_reconcile_due, sms_reconcile_summary

    return "; ".join(sms_reconcile_summary(run) for run in sms_reconcile_due()) or "nothing due"


def sync_catalogues() -> str:
    from providers.adapters.errors import ProviderError
    from providers.models import Provider
    from providers.sync import catalogue_sync

    lines = []
    for provider in Provider.objects.filter(enabled=True):
        try:
            lines.append(f"{provider}: {catalogue_sync(provider)}")
        except ProviderError as exc:
            logger.warning("catalogue sync of %s failed: %s", provider, exc)
            lines.append(f"{provider}: failed: {exc}")
    # Also picks up what no sync sees: a new tier, a provider switched on or off (4 reads when unchanged).
    from providers.pricing import pricing_refresh

    lines.append(f"prices: {pricing_refresh()}")
    return "; ".join(lines)


def poll_provider_balances() -> str:
    from providers.adapters.errors import ProviderError
    from providers.adapters.types import Capability
    from providers.models import Provider
    from providers.services import provider_adapter, provider_fetch_balance

    lines = []
    for provider in Provider.objects.filter(enabled=True):
        if not provider_adapter(provider).has(Capability.BALANCE):
            continue
        try:
            lines.append(f"{provider}: {provider_fetch_balance(provider).amount}")
        except ProviderError as exc:
            lines.append(f"{provider}: failed: {exc}")
    return "; ".join(lines)


def forward_delivery_reports(order_id: int, recipient_ids: list[int], attempt: int = 1) -> str:
    """POST RajaSMS-shaped delivery callbacks for an API order to the reseller's callbackurl; failures
    are retried by a one-off schedule with backoff (orders.forwarding)."""
    from orders.forwarding import forward_reports

    return forward_reports(order_id, recipient_ids, attempt)


def purge_idempotency_keys() -> str:
    """Drop the API's idempotency records past their 24 h (they are ignored from then on anyway)."""
    from orders.api.idempotency import idempotency_purge

    return f"{idempotency_purge()} expired idempotency keys purged"
