"""Writes for orders: status transitions, refunds, reseller actions and operator resolutions.

Money rules (ARCHITECTURE: Orders): acceptance (orders.placement) charges the wallet and creates the order
in one transaction; submission (orders.submission) calls the upstream afterwards. Rejected / never sent ->
full refund; reply lost or garbled -> `unknown`, no refund.
- Every transition is a guarded UPDATE (`WHERE status = <the status we saw>`), so two workers applying
  the same news cannot both act; the refund in the same transaction is the ledger's single refund for the
  order (unique constraint), so nothing pays out twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.money import ZERO, floor_money
from accounts.services import wallet_refund
from orders.models import EventCode, Order, OrderEvent
from providers.adapters.errors import (
    ProviderError,
    ProviderNotSupported,
    ProviderRejected,
)
from providers.adapters.types import (
    FINAL_STATUSES,
    Capability,
    DeliveryState,
    ProductKind,
    Status,
    StatusResult,
)
from providers.services import provider_adapter

logger = logging.getLogger(__name__)

# Forward progress only: a late or glitchy "pending" never takes a processing order backwards.
_RANK = {Status.SUBMITTING: 0, Status.UNKNOWN: 0, Status.PENDING: 1, Status.PROCESSING: 2}


class OrderActionError(Exception):
    """A reseller action the order's state or protocol does not allow; the message is for the reseller."""


# --- transitions and refunds -----------------------------------------------------------------------
def refund_due(order: Order, to: Status) -> Decimal:
    """What the reseller gets back when `order` reaches `to` (uses the frozen prices on the order)."""
    rejected_parts = 0
    if order.kind == ProductKind.SMS and to.is_final:
        # Each rejected packet's own parts (a bulk API send may give numbers different texts).
        parts = order.recipients.filter(state=DeliveryState.REJECTED).values_list("segments", flat=True)
        rejected_parts = sum(p or order.segments for p in parts)
    return refund_amount(
        kind=order.kind,
        to=to,
        charge=order.charge,
        unit_price=order.unit_price,
        remains=order.remains,
        otp_code=order.otp_code,
        rejected_parts=rejected_parts,
    )


def refund_amount(
    *,
    kind: str,
    to: str,
    charge: Decimal,
    unit_price: Decimal,
    remains: int | None = None,
    otp_code: str = "",
    rejected_parts: int = 0,
) -> Decimal:
    """The refund formula, from an order's frozen figures: canceled or failed -> the whole charge (not for an
    OTP number whose code was delivered); an SMM partial -> `remains` x the price per 1,000; a final SMS ->
    the SMS parts the gateway rejected x the unit price. Never more than the charge. refund_due applies it
    to an order; the demo seeder to the orders it writes."""
    if kind == ProductKind.SMS:
        if to in FINAL_STATUSES:
            return min(floor_money(unit_price * rejected_parts), charge)
        return ZERO
    if to in (Status.CANCELED, Status.FAILED):
        if kind == ProductKind.OTP and otp_code:
            return ZERO  # the code was delivered: the number was used
        return charge
    if to == Status.PARTIAL and kind == ProductKind.SMM and remains:
        return min(floor_money(Decimal(remains) * unit_price / 1000), charge)
    return ZERO


def order_transition(
    order: Order,
    *,
    to: Status,
    code: EventCode,
    reason: str = "",
    actor: User | None = None,
    expected: str | None = None,
    **fields,
) -> bool:
    """Move `order` from the status we saw to `to`, with field changes, an event and any refund, in one
    transaction. Returns False (changing nothing) when someone else moved the order first."""
    seen = expected or order.status
    now = timezone.now()
    updates = {**fields, "status": to.value, "updated_at": now}
    if to.is_final and not Status(seen).is_final:
        updates["finished_at"] = now
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=seen).update(**updates):
            return False
        for name, value in updates.items():
            setattr(order, name, value)
        if to.value != seen:
            OrderEvent.objects.create(
                order=order, from_status=seen, to_status=to.value, code=code, reason=reason[:300], actor=actor
            )
        if to.is_final:
            amount = refund_due(order, to)
            if amount > 0:
                entry = wallet_refund(
                    order_id=order.pk,
                    amount=amount,
                    reason=_("Refund for order #%(id)s") % {"id": order.pk},
                    actor=actor,
                )
                Order.objects.filter(pk=order.pk).update(refunded=entry.amount)
                order.refunded = entry.amount
    return True


def order_apply_status(order: Order, result: StatusResult, *, code: EventCode = EventCode.REFRESH) -> bool:
    """Apply what the upstream says about `order`. Writes only when something changed. A final order is
    never reopened; a status never moves backwards."""
    if order.is_final or not result.found or result.status == Status.UNKNOWN:
        return False
    fields: dict = {}
    if result.raw_status and result.raw_status[:60] != order.raw_status:
        fields["raw_status"] = result.raw_status[:60]
    if result.otp_code and result.otp_code != order.otp_code:
        fields["otp_code"], fields["otp_sms"] = result.otp_code[:20], result.sms_text
    if order.kind == ProductKind.SMM:
        for name in ("remains", "start_count"):
            value = getattr(result, name)
            if value is not None and value != getattr(order, name):
                fields[name] = value
    if result.voucher and result.voucher[:255] != order.voucher:
        fields["voucher"] = result.voucher[:255]
    status = Status(order.status)
    new = result.status
    if not new.is_final and _RANK.get(new, 0) < _RANK.get(status, 0):
        new = status
    if new == status and not fields:
        return False
    return order_transition(order, to=new, code=code, **fields)


# --- SMS -------------------------------------------------------------------------------------------
def sms_settle(order: Order) -> bool:
    """Finish an SMS order once every recipient is final: completed if all delivered, failed if none,
    partial otherwise. The refund is the share of recipients the gateway rejected (not charged)."""
    if order.is_final:
        return False
    states = list(order.recipients.values_list("state", flat=True))
    if not states or not all(DeliveryState(s).is_final for s in states):
        return False
    delivered = sum(1 for s in states if s == DeliveryState.DELIVERED)
    to = Status.COMPLETED if delivered == len(states) else Status.FAILED if delivered == 0 else Status.PARTIAL
    return order_transition(order, to=to, code=EventCode.DELIVERY, reason=f"{delivered}/{len(states)}")


# --- reseller actions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str


def _owned(user: User, order: Order) -> None:
    if order.user_id != user.pk:
        raise Order.DoesNotExist  # another reseller's order does not exist for this one


def allowed_actions(order: Order) -> list[str]:
    """Which of cancel / resend / done / refill the order's kind, state and protocol allow now."""
    if not order.external_id:
        return []
    caps = provider_adapter(order.provider).effective_capabilities()
    actions = []
    if order.kind == ProductKind.OTP and order.status in (Status.PENDING, Status.PROCESSING):
        if not order.otp_code and Capability.CANCEL in caps:
            actions.append("cancel")
        if order.otp_code and Capability.RESEND in caps:
            actions.append("resend")
        if order.otp_code and Capability.DONE in caps:
            actions.append("done")
    elif order.kind == ProductKind.SMM:
        if (
            order.status in (Status.PENDING, Status.PROCESSING)
            and order.service.can_cancel
            and Capability.CANCEL in caps
        ):
            actions.append("cancel")
        if (
            order.status in (Status.COMPLETED, Status.PARTIAL)
            and order.service.can_refill
            and Capability.REFILL in caps
        ):
            actions.append("refill")
    return actions


def ready_allowed(order: Order) -> bool:
    """VirtuSIM set_status 1 ("Ready": start waiting for the SMS): a protocol call a reseller's own client
    makes through the API, forwarded while the number is open; the upstream decides whether it applies."""
    return (
        order.kind == ProductKind.OTP
        and bool(order.external_id)
        and order.status in (Status.PENDING, Status.PROCESSING)
        and Capability.READY in provider_adapter(order.provider).effective_capabilities()
    )


def order_action(user: User, order: Order, action: str) -> ActionOutcome:
    """Run a reseller action on their order. Raises OrderActionError when it is not allowed now."""
    _owned(user, order)
    allowed = ready_allowed(order) if action == "ready" else action in allowed_actions(order)
    if not allowed:
        raise OrderActionError(_("This action is not available for this order now."))
    adapter = provider_adapter(order.provider)
    try:
        if action == "refill":
            refill = adapter.refill(order.external_id)
            Order.objects.filter(pk=order.pk).update(refill_id=refill.refill_id[:100])
            order.refill_id = refill.refill_id
            # the provider's refill id stays with operators; the reason is the action's name, labelled in the
            # language of whoever reads the history (orders.labels), not in the requester's
            _note(order, EventCode.RESELLER_REQUEST, action, user)
            return ActionOutcome(True, _("Refill requested."))
        calls = {"ready": adapter.ready, "cancel": adapter.cancel, "resend": adapter.resend, "done": adapter.done}
        result = calls[action](order.external_id)
    except ProviderNotSupported as exc:
        raise OrderActionError(_("This action is not available for this order now.")) from exc
    except ProviderRejected as exc:
        # The provider's own words ("Gagal Resend", "Order can not be canceled") stay in the log: they are in
        # its language, not the reseller's.
        logger.info("order %s: %s refused by the provider: %s", order.pk, action, exc.message[:150])
        raise OrderActionError(_("The provider refused this request.")) from exc
    except ProviderError as exc:
        raise OrderActionError(_("The provider did not answer; try again in a moment.")) from exc
    if not result.ok:
        logger.info("order %s: %s refused by the provider: %s", order.pk, action, result.message[:150])
        raise OrderActionError(_("The provider refused this request."))
    if order.kind == ProductKind.OTP and action == "cancel":
        order_transition(order, to=Status.CANCELED, code=EventCode.RESELLER_CANCEL, actor=user)
        return ActionOutcome(True, _("Order canceled; the charge has been refunded."))
    if action == "done":
        order_transition(order, to=Status.COMPLETED, code=EventCode.RESELLER_DONE, actor=user)
        return ActionOutcome(True, _("Order finished."))
    _note(order, EventCode.RESELLER_REQUEST, action, user)
    if action == "resend":
        return ActionOutcome(True, _("A new SMS has been requested."))
    return ActionOutcome(True, _("Request sent to the provider."))


def _note(order: Order, code: EventCode, reason: str, actor: User | None) -> None:
    OrderEvent.objects.create(
        order=order, from_status=order.status, to_status=order.status, code=code, reason=reason, actor=actor
    )


# --- operator resolutions of `unknown` orders ------------------------------------------------------
def order_resolve_placed(order: Order, external_id: str, *, actor: User) -> bool:
    """An operator found the order upstream: attach its id and let the refresh take it from there."""
    external_id = external_id.strip()
    if not external_id:
        raise OrderActionError(_("Enter the upstream order id."))
    if order.status != Status.UNKNOWN:  # a `submitting` order is the submitter's, not the operator's
        raise OrderActionError(_("Only orders in 'unknown' can be resolved."))
    return order_transition(
        order,
        to=Status.PENDING,
        code=EventCode.RESOLVED,
        reason=f"resolved as placed upstream ({external_id})",
        actor=actor,
        external_id=external_id[:100],
        error="",
    )


def order_resolve_failed(order: Order, *, actor: User, note: str = "") -> bool:
    """An operator established the order never happened upstream: fail it and refund in full."""
    if order.status != Status.UNKNOWN:
        raise OrderActionError(_("Only orders in 'unknown' can be resolved."))
    if order.kind == ProductKind.SMS:
        order.recipients.update(state=DeliveryState.REJECTED, text="resolved as failed")
    return order_transition(
        order,
        to=Status.FAILED,
        code=EventCode.RESOLVED,
        reason=f"resolved as failed by operator {note}".strip()[:300],
        actor=actor,
        error=_("The order did not go through. Your balance has been refunded."),
    )
