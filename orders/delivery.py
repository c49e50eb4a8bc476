"""SMS delivery reports: pushed callbacks (CallbackEvent) and polled reports, applied to recipients."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders.forwarding import delivery_forward
from orders.models import CallbackEvent, Order, OrderRecipient
from orders.services import sms_settle
from providers.adapters import ADAPTERS
from providers.adapters.errors import ProviderError
from providers.adapters.types import Capability, DeliveryReport, DeliveryState, ProductKind, Status
from providers.models import Provider
from providers.services import provider_adapter, provider_record_error

logger = logging.getLogger(__name__)
_STATE_RANK = {DeliveryState.QUEUED: 0, DeliveryState.SENT: 1}  # final states rank 2
REPORT_POLL_AFTER = timedelta(minutes=2)
ORPHAN_AFTER = timedelta(days=2)  # a report for no known message is kept this long, then closed


def _rank(state: str) -> int:
    return _STATE_RANK.get(DeliveryState(state), 2)


def _apply(provider_id: int, reports: Sequence[DeliveryReport]) -> tuple[set[int], set[str]]:
    """Move recipients forward to the reported states. Returns the ids of orders touched and the
    upstream ids that matched a recipient (a report may arrive before the send reply is stored)."""
    by_id = {r.external_id: r for r in reports if r.external_id}
    if not by_id:
        return set(), set()
    recipients = list(
        OrderRecipient.objects.filter(order__provider_id=provider_id, external_id__in=list(by_id)).only(
            "id", "order_id", "external_id", "state", "code", "text"
        )
    )
    changed = []
    for row in recipients:
        report = by_id[row.external_id]
        if _rank(report.state) > _rank(row.state) or (
            _rank(row.state) == 2 and row.state != report.state and row.state != DeliveryState.REJECTED
        ):
            row.state, row.code, row.text = report.state.value, report.code[:20], report.text[:200]
            changed.append(row)
    OrderRecipient.objects.bulk_update(changed, ["state", "code", "text"], batch_size=500)
    if changed:
        delivery_forward([row.pk for row in changed])
        _account_trouble(provider_id, changed)
    return {row.order_id for row in changed}, {row.external_id for row in recipients}


def _account_trouble(provider_id: int, changed: Sequence[OrderRecipient]) -> None:
    """The gateway said the provider's own account cannot pay (`ProviderAdapter.account_codes`: masking 50
    Saldo Habis, 51 Periode Habis). Those SMS were not sent and are refunded like any refusal when their
    order settles; but every further send fails the same way until an operator tops the account up, so
    say it loudly: an error in the log and on the provider's row. Only rows that just changed count, so a
    report heard twice (callback and poll) is told once."""
    refused = [row for row in changed if row.state == DeliveryState.REJECTED]
    provider = Provider.objects.filter(pk=provider_id).first() if refused else None
    adapter = ADAPTERS.get(provider.kind) if provider else None
    if provider is None or adapter is None:
        return
    hit = [row for row in refused if row.code in adapter.account_codes]
    if hit:
        what = "; ".join(adapter.account_codes[code] for code in sorted({row.code for row in hit}))
        orders = sorted({row.order_id for row in hit})
        message = (
            f"{what} ({len(hit)} SMS not sent, refunded to the resellers;"
            f" orders {', '.join(f'#{pk}' for pk in orders[:5])}{' ...' if len(orders) > 5 else ''})"
        )
        logger.error("provider %s: %s", provider, message)
        provider_record_error(provider, message)


def _settle(order_ids: set[int]) -> int:
    settled = 0
    for order in Order.objects.filter(pk__in=order_ids, status__in=[Status.PENDING, Status.PROCESSING]):
        settled += sms_settle(order)
    return settled


def callbacks_apply(limit: int = 2000) -> int:
    """Apply recorded callback events that are not applied yet. Safe to run twice or concurrently: the
    recipients only move forward and each order settles through a guarded transition.

    An event that matches no recipient yet (the gateway called back before the send reply was stored)
    stays pending for the next run; after ORPHAN_AFTER it is closed as an orphan."""
    now = timezone.now()
    events = list(CallbackEvent.objects.filter(applied_at__isnull=True).order_by("id")[:limit])
    if not events:
        return 0
    touched: set[int] = set()
    by_provider: dict[int, list[DeliveryReport]] = {}
    for event in events:
        by_provider.setdefault(event.provider_id, []).append(
            DeliveryReport(event.external_id, event.number, DeliveryState(event.state), event.code, event.text)
        )
    with transaction.atomic():
        matched: set[tuple[int, str]] = set()
        for provider_id, reports in by_provider.items():
            orders, external_ids = _apply(provider_id, reports)
            touched |= orders
            matched |= {(provider_id, external_id) for external_id in external_ids}
        done = [e.pk for e in events if (e.provider_id, e.external_id) in matched or e.received_at < now - ORPHAN_AFTER]
        CallbackEvent.objects.filter(pk__in=done).update(applied_at=now)
    _settle(touched)
    return len(done)


def reports_poll(now=None) -> int:
    """Fallback for gateways whose callbacks may not arrive: ask for the report of SMS still in flight
    (masking HTTP `report.php`). One batch per provider."""
    now = now or timezone.now()
    pending = (
        OrderRecipient.objects.filter(
            order__kind=ProductKind.SMS,
            order__status__in=[Status.PENDING, Status.PROCESSING],
            order__created_at__lt=now - REPORT_POLL_AFTER,
            state__in=[DeliveryState.QUEUED, DeliveryState.SENT],
        )
        .exclude(external_id="")
        .values_list("order__provider_id", "external_id")
    )
    by_provider: dict[int, list[str]] = {}
    for provider_id, external_id in pending[:5000]:
        by_provider.setdefault(provider_id, []).append(external_id)
    touched: set[int] = set()
    for provider in Provider.objects.filter(pk__in=list(by_provider)):
        adapter = provider_adapter(provider)
        if not adapter.has(Capability.REPORT_POLL):
            continue
        try:
            reports = adapter.fetch_reports(by_provider[provider.pk])
        except ProviderError as exc:
            logger.warning("report poll for %s failed: %s", provider, exc)
            continue
        touched |= _apply(provider.pk, reports)[0]
    return _settle(touched)
