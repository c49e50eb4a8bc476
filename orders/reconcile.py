"""Reconciliation: orders whose placement reply was lost (`unknown`), and below, the daily comparison of
SMS gateways' reports with the panel's SMS (`sms_reconcile_day`).

Where the protocol can list recent upstream orders (Osimesa: latest transactions; VirtuSIM: active
orders), an unknown order is matched to exactly one unclaimed upstream order of the same product and
target and takes its id and status (a failed one is refunded). Where it cannot, the order stays
`unknown` for an operator (admin: resolve as placed / as failed). Never refunds on a guess.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.money import ZERO, to_money
from orders.models import (
    DifferenceKind,
    EventCode,
    Order,
    OrderRecipient,
    ReconciliationStatus,
    SmsDifference,
    SmsReconciliation,
)
from orders.services import order_transition
from orders.submission import submissions_sweep
from providers.adapters.errors import ProviderError
from providers.adapters.types import Capability, DeliveryState, ProductKind, SentSms, Status, StatusResult
from providers.models import Provider, Service
from providers.services import provider_adapter

logger = logging.getLogger(__name__)
MATCH_WINDOW = timedelta(minutes=30)


@dataclass
class ReconcileStats:
    stale: int = 0
    matched: int = 0
    left: int = 0

    def __str__(self) -> str:
        return f"{self.stale} stale submissions marked unknown, {self.matched} matched, {self.left} left for operators"


def _matches(order: Order, candidate: StatusResult) -> bool:
    if candidate.created_at and abs(candidate.created_at - order.created_at) > MATCH_WINDOW:
        return False
    if order.kind == "prepaid":
        same_product = candidate.service_id == order.service.external_id
        return same_product and "".join(ch for ch in candidate.number if ch.isdigit()) == order.target
    if order.kind == "otp":
        name = str(candidate.raw.get("service_name") or candidate.service_id or "")
        return name in (order.service.name, order.service.external_id)
    return False


def reconcile_unknown(now=None) -> ReconcileStats:
    now = now or timezone.now()
    stats = ReconcileStats()
    # A send interrupted midway becomes unknown here too; an accepted order still waiting in the queue was
    # never sent, so it is left to the submitter however old it is.
    stats.stale = submissions_sweep(now)["interrupted"]
    unknown: dict[int, list[Order]] = defaultdict(list)
    for order in Order.objects.filter(status=Status.UNKNOWN, external_id="").select_related("service").order_by("id"):
        unknown[order.provider_id].append(order)
    for provider in Provider.objects.filter(pk__in=list(unknown)):
        orders = unknown[provider.pk]
        adapter = provider_adapter(provider)
        if not adapter.has(Capability.RECENT_ORDERS):
            stats.left += len(orders)
            continue
        try:
            candidates = adapter.recent_orders(15)
        except ProviderError as exc:
            logger.warning("reconcile: %s: %s", provider, exc)
            stats.left += len(orders)
            continue
        claimed = set(
            Order.objects.filter(provider=provider, external_id__in=[c.external_id for c in candidates]).values_list(
                "external_id", flat=True
            )
        )
        found = {o.pk: [c for c in candidates if c.external_id not in claimed and _matches(o, c)] for o in orders}
        claimants: dict[str, int] = defaultdict(int)
        for matches in found.values():
            for candidate in matches:
                claimants[candidate.external_id] += 1
        for order in orders:
            # Attach only an unambiguous pair: one candidate for this order, and no other order wanting it.
            if len(found[order.pk]) != 1 or claimants[found[order.pk][0].external_id] != 1:
                stats.left += 1
                continue
            match = found[order.pk][0]
            to = match.status if match.status not in (Status.UNKNOWN, Status.SUBMITTING) else Status.PENDING
            fields = {"external_id": match.external_id[:100], "raw_status": match.raw_status[:60], "error": ""}
            if match.voucher:
                fields["voucher"] = match.voucher[:255]
            if match.number and order.kind == "otp":
                fields["target"] = match.number
            if order_transition(
                order, to=to, code=EventCode.RECONCILED, reason=f"upstream order {match.external_id}", **fields
            ):
                claimed.add(match.external_id)
                stats.matched += 1
    return stats


# --- daily SMS reconciliation ----------------------------------------------------------------------
# A day of an SMS gateway's own report (masking reports_post.php) against the panel's SMS recipients
# routed to it: SMS the gateway sent that the panel does not know, SMS the panel sent that the report
# lacks, and SMS both know whose state or SMS count (price) disagree. Stored per provider and day
# (SmsReconciliation, replaced when run again) for operators. Information only: nothing here moves
# money; refunds stay with the delivery reports and the operators' own actions.

WIB = ZoneInfo("Asia/Jakarta")
CHUNK = 500
# Delivery states that mean the same for this comparison: queued and sent are both "on the way".
_STATE_CLASS = {
    DeliveryState.QUEUED: gettext_noop("on the way"),
    DeliveryState.SENT: gettext_noop("on the way"),
    DeliveryState.DELIVERED: gettext_noop("delivered"),
    DeliveryState.FAILED: gettext_noop("failed"),
    DeliveryState.REJECTED: gettext_noop("not charged"),
}


def sms_reconcile_providers() -> list[Provider]:
    """Enabled providers whose protocol can report what it sent in a date range."""
    found = []
    for provider in Provider.objects.filter(enabled=True).order_by("name"):
        try:
            if provider_adapter(provider).has(Capability.SENT_REPORT):
                found.append(provider)
        except ValueError:  # a kind no longer registered
            continue
    return found


def sms_reconcile_summary(run: SmsReconciliation) -> str:
    head = f"{run.provider} {run.day:%Y-%m-%d}"
    if run.status == ReconciliationStatus.FAILED:
        return f"{head}: failed: {run.reason}"
    return (
        f"{head}: {run.upstream_count} SMS in the gateway's report, {run.panel_count} in the panel, "
        f"{run.matched_count} matched; differences: {run.unknown_count} unknown to the panel, "
        f"{run.missing_count} missing upstream, {run.state_count} state, {run.price_count} price"
    )


def wib_yesterday(now=None) -> date:
    return timezone.localtime(now or timezone.now(), WIB).date() - timedelta(days=1)


def sms_reconcile_due(now=None) -> list[SmsReconciliation]:
    """The schedule's entry (hourly): yesterday (WIB) for each provider not yet compared successfully, so
    a gateway that was down is tried again the next hour, and a compared day is not fetched again."""
    day = wib_yesterday(now)
    done = set(
        SmsReconciliation.objects.filter(day=day, status=ReconciliationStatus.OK).values_list("provider_id", flat=True)
    )
    return [sms_reconcile_day(p, day, now) for p in sms_reconcile_providers() if p.pk not in done]


def sms_reconcile_day(provider: Provider, day: date, now=None) -> SmsReconciliation:
    """Compare `day` (WIB) and store the result, replacing an earlier run of the same day. A gateway
    error (refused login, unreachable, unreadable report) is stored as a failed run, never raised."""
    now = now or timezone.now()
    try:
        # The next day too: an SMS accepted just before midnight may leave the gateway just after it.
        rows = provider_adapter(provider).download_report(day, day + timedelta(days=1))
    except ProviderError as exc:
        logger.warning("SMS reconciliation of %s for %s: %s", provider, day, exc)
        return _store_run(provider, day, now, {"status": ReconciliationStatus.FAILED, "reason": str(exc)[:500]}, [])
    fields, differences = _compare(provider, day, rows)
    return _store_run(provider, day, now, {"status": ReconciliationStatus.OK, "reason": "", **fields}, differences)


@transaction.atomic
def _store_run(provider: Provider, day: date, now, fields: dict, differences: list[SmsDifference]):
    counts = {name: 0 for name in ("upstream_count", "panel_count", "matched_count")}
    costs = {"upstream_cost": ZERO, "panel_cost": ZERO}
    per_kind = {f"{kind}_count": 0 for kind in DifferenceKind.values}
    for difference in differences:
        per_kind[f"{difference.kind}_count"] += 1
    run, _created = SmsReconciliation.objects.update_or_create(
        provider=provider, day=day, defaults={**counts, **costs, **per_kind, **fields, "ran_at": now}
    )
    run.differences.all().delete()
    for difference in differences:
        difference.run = run
    SmsDifference.objects.bulk_create(differences, batch_size=CHUNK)
    return run


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=WIB)
    return start, start + timedelta(days=1)


def _parts(recipient: OrderRecipient) -> int:
    return recipient.segments or recipient.order.segments


def _cost(parts: int | None, unit_cost: Decimal, state: DeliveryState | str | None) -> Decimal | None:
    """What one SMS costs upstream: nothing when the gateway did not charge it (No Charge, never sent)."""
    if parts is None:
        return None
    return ZERO if state == DeliveryState.REJECTED else to_money(unit_cost * parts)


def _by_external_id(provider: Provider, ids: list[str]) -> dict[str, OrderRecipient]:
    found: dict[str, OrderRecipient] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = OrderRecipient.objects.filter(order__provider=provider, external_id__in=chunk).select_related("order")
        for recipient in query.order_by("pk"):
            found.setdefault(recipient.external_id, recipient)
    return found


def _compare(provider: Provider, day: date, rows: list[SentSms]) -> tuple[dict, list[SmsDifference]]:
    start, end = _day_bounds(day)
    in_day = {}
    for row in rows:
        if row.sent_at is None or start <= row.sent_at < end:
            in_day.setdefault(row.external_id, row)
    listed = {row.external_id for row in rows}  # the day and the next: a late send is not "missing"
    known = _by_external_id(provider, list(in_day))
    panel = list(
        OrderRecipient.objects.filter(
            order__provider=provider,
            order__kind=ProductKind.SMS,
            order__created_at__gte=start,
            order__created_at__lt=end,
        )
        .select_related("order")
        .order_by("pk")
    )
    # Sends whose reply was lost have no report id: a gateway row for their number is probably one of them.
    lost: dict[str, list[OrderRecipient]] = defaultdict(list)
    for recipient in panel:
        if not recipient.external_id and recipient.state != DeliveryState.REJECTED:
            lost[recipient.number].append(recipient)
    route_cost = (
        Service.objects.filter(provider=provider, kind=ProductKind.SMS)
        .order_by("route_priority")
        .values_list("cost", flat=True)
        .first()
        or ZERO
    )
    differences: list[SmsDifference] = []
    upstream_cost = panel_cost = ZERO
    for row in in_day.values():
        recipient = known.get(row.external_id)
        unit_cost = recipient.order.unit_cost if recipient else route_cost
        row_cost = _cost(row.parts, unit_cost, row.state)
        upstream_cost += row_cost or ZERO
        upstream_state = f"{row.code} {row.text}".strip() or "?"
        if recipient is None:
            guesses = lost.get(row.number, [])
            order = guesses[0].order if len(guesses) == 1 else None
            detail = (
                _("Probably the send of order #%(id)s whose reply was lost.") % {"id": order.pk}
                if order
                else _("No SMS of the panel has this report id.")
            )
            differences.append(
                _difference(DifferenceKind.UNKNOWN, row, order, upstream_state, upstream_cost=row_cost, detail=detail)
            )
            continue
        order, parts = recipient.order, _parts(recipient)
        panel_state = f"{recipient.state} {recipient.code}".strip()
        if row.state is None or _STATE_CLASS[row.state] != _STATE_CLASS.get(recipient.state):
            detail = (
                _("The gateway's status is not one the document lists.")
                if row.state is None
                else _("Gateway: %(upstream)s; panel: %(panel)s.")
                % {"upstream": _(_STATE_CLASS[row.state]), "panel": _(_STATE_CLASS.get(recipient.state, "?"))}
            )
            differences.append(
                _difference(DifferenceKind.STATE, row, order, upstream_state, panel_state=panel_state, detail=detail)
            )
        if row.parts is not None and row.parts != parts:
            differences.append(
                _difference(
                    DifferenceKind.PRICE,
                    row,
                    order,
                    upstream_state,
                    panel_state=panel_state,
                    panel_parts=parts,
                    panel_cost=_cost(parts, order.unit_cost, recipient.state),
                    upstream_cost=row_cost,
                    detail=_("The gateway counted %(upstream)s SMS, the panel %(panel)s.")
                    % {"upstream": row.parts, "panel": parts},
                )
            )
    for recipient in panel:
        panel_cost += _cost(_parts(recipient), recipient.order.unit_cost, recipient.state) or ZERO
        if recipient.external_id and recipient.external_id not in listed:
            differences.append(
                SmsDifference(
                    kind=DifferenceKind.MISSING,
                    external_id=recipient.external_id,
                    number=recipient.number,
                    order=recipient.order,
                    sent_at=recipient.order.created_at,
                    panel_state=f"{recipient.state} {recipient.code}".strip(),
                    panel_parts=_parts(recipient),
                    panel_cost=_cost(_parts(recipient), recipient.order.unit_cost, recipient.state),
                    detail=_("The gateway's report for this day and the next has no SMS with this report id."),
                )
            )
    fields = {
        "upstream_count": len(in_day),
        "panel_count": len(panel),
        "matched_count": len(known),
        "upstream_cost": upstream_cost,
        "panel_cost": panel_cost,
    }
    return fields, differences


def _difference(kind: str, row: SentSms, order: Order | None, upstream_state: str, **fields) -> SmsDifference:
    detail = str(fields.pop("detail", ""))[:300]
    return SmsDifference(
        kind=kind,
        external_id=row.external_id[:100],
        number=row.number[:32],
        order=order,
        sent_at=row.sent_at,
        upstream_state=upstream_state[:80],
        upstream_parts=row.parts,
        detail=detail,
        **fields,
    )
