"""Writes for orders: placement, status transitions, refunds and reseller actions.

Money rules (ARCHITECTURE: Orders):
- Placement charges the wallet and creates the order in one transaction; the upstream is called after
  that commits. Rejected / never sent -> full refund; reply lost or garbled -> `unknown`, no refund.
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
from accounts.services import InsufficientBalance, wallet_debit, wallet_refund
from orders.models import Order, OrderEvent, OrderRecipient, OrderStatus
from orders.quotes import OrderInvalid, Quote, order_quote
from providers.adapters.errors import (
    ProviderError,
    ProviderNotSupported,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.adapters.types import (
    Capability,
    DeliveryState,
    OrderRequest,
    PlacedOrder,
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


# --- placement -------------------------------------------------------------------------------------
def order_place(user: User, *, source: str = "web", **request) -> Order:
    """Validate, charge and submit an order. Raises OrderInvalid (nothing charged, nothing written)."""
    quote = order_quote(user, **request)
    order = _order_create(user, quote, source)
    order_submit(order, quote.routes[1:])
    return order


def _order_create(user: User, quote: Quote, source: str) -> Order:
    with transaction.atomic():
        order = Order.objects.create(
            user=user,
            kind=quote.kind,
            service=quote.service,
            provider=quote.service.provider,
            status=OrderStatus.SUBMITTING,
            unit_price=quote.unit_price,
            unit_cost=quote.unit_cost,
            quantity=quote.quantity,
            charge=quote.charge,
            cost=quote.cost,
            target=quote.target,
            operator=quote.operator,
            message=quote.message,
            segments=quote.segments,
            schedule_at=quote.schedule_at,
            source=source,
        )
        try:
            wallet_debit(  # no savepoint: any failure here rolls the whole order back
                user=user,
                amount=quote.charge,
                order_id=order.pk,
                reason=_("Order #%(id)s") % {"id": order.pk},
                savepoint=False,
            )
        except InsufficientBalance as exc:
            raise OrderInvalid({"__all__": str(exc)}) from exc  # rolls back the order row too
        if quote.recipients:
            OrderRecipient.objects.bulk_create(OrderRecipient(order=order, number=n) for n in quote.recipients)
        OrderEvent.objects.create(order=order, to_status=OrderStatus.SUBMITTING, reason="placed")
    return order


def _request_for(order: Order) -> OrderRequest:
    recipients = (
        tuple(order.recipients.order_by("pk").values_list("number", flat=True)) if order.kind == ProductKind.SMS else ()
    )
    return OrderRequest(
        kind=ProductKind(order.kind),
        service_id=order.service.external_id,
        quantity=order.quantity,
        link=order.target if order.kind == ProductKind.SMM else "",
        operator=order.operator or "any",
        target=order.target if order.kind == ProductKind.PREPAID else "",
        message=order.message,
        recipients=recipients,
        schedule=order.schedule_at,
        reference=str(order.pk),
    )


def order_submit(order: Order, fallback_routes: list | None = None) -> Order:
    """Send a `submitting` order upstream and record what happened. Never raises for upstream trouble."""
    fallback_routes = list(fallback_routes or [])
    while True:
        try:
            placed = provider_adapter(order.provider).place_order(_request_for(order))
        except (ProviderRejected, ProviderUnavailable, ProviderNotSupported) as exc:
            # Nothing happened upstream (refused, never sent, or the route cannot do it, e.g. a schedule
            # on masking HTTP). An SMS send moves on to the next route of its type.
            if order.kind == ProductKind.SMS and fallback_routes:
                route = fallback_routes.pop(0)
                _switch_route(order, route, reason=f"route {order.provider} refused: {exc}")
                continue
            logger.info("order %s refused upstream: %s", order.pk, exc)
            if order.kind == ProductKind.SMS:
                order.recipients.update(state=DeliveryState.REJECTED, text=str(exc)[:200])
            order_transition(
                order,
                to=Status.FAILED,
                reason=f"upstream refused: {exc}"[:300],
                error=_user_message(exc),
                raw_status=type(exc).__name__,
            )
            return order
        except Exception as exc:  # lost reply, garbled reply or a bug: the order may exist upstream
            logger.warning("order %s outcome unknown: %s", order.pk, exc, exc_info=not isinstance(exc, ProviderError))
            order_transition(
                order,
                to=Status.UNKNOWN,
                reason=f"outcome unknown: {exc}"[:300],
                error=_("The provider did not confirm this order; we are checking it. You will not be charged twice."),
                raw_status=type(exc).__name__,
            )
            return order
        _apply_placed(order, placed)
        return order


def _switch_route(order: Order, route, *, reason: str) -> None:
    Order.objects.filter(pk=order.pk, status=Status.SUBMITTING).update(
        service=route, provider=route.provider, unit_cost=route.cost
    )
    order.service, order.provider, order.unit_cost = route, route.provider, route.cost
    OrderEvent.objects.create(order=order, from_status=Status.SUBMITTING, to_status=Status.SUBMITTING, reason=reason)


def _apply_placed(order: Order, placed: PlacedOrder) -> None:
    fields: dict = {"external_id": placed.external_id[:100], "raw_status": placed.raw_status[:60]}
    if placed.number:
        fields["target"] = placed.number
    if placed.voucher:
        fields["voucher"] = placed.voucher[:255]
    if placed.recipients:
        _store_recipient_results(order, placed)
    status = placed.status if placed.status not in (Status.SUBMITTING, Status.UNKNOWN) else Status.PENDING
    if order.kind == ProductKind.SMS and status not in (Status.FAILED,):
        status = Status.PROCESSING
    order_transition(order, to=status, reason="accepted upstream", **fields)
    if order.kind == ProductKind.SMS:
        sms_settle(order)


def _store_recipient_results(order: Order, placed: PlacedOrder) -> None:
    by_number = {r.number: r for r in placed.recipients}
    rows = list(order.recipients.all())
    for row in rows:
        result = by_number.get(row.number)
        if result is None:
            continue
        row.external_id = result.external_id[:100]
        row.state = result.state.value
        row.code, row.text = result.code[:20], result.text[:200]
    OrderRecipient.objects.bulk_update(rows, ["external_id", "state", "code", "text"], batch_size=500)


def _user_message(exc: ProviderError) -> str:
    if isinstance(exc, ProviderUnavailable):
        return _("The provider could not be reached. Your balance has been refunded.")
    return _("The provider refused the order (%(reason)s). Your balance has been refunded.") % {
        "reason": exc.message[:150]
    }


# --- transitions and refunds -----------------------------------------------------------------------
def refund_due(order: Order, to: Status) -> Decimal:
    """What the reseller gets back when `order` reaches `to` (uses the frozen prices on the order)."""
    if order.kind == ProductKind.SMS:
        if to.is_final:
            rejected = order.recipients.filter(state=DeliveryState.REJECTED).count()
            share = floor_money(order.unit_price * order.segments * rejected)
            return min(share, order.charge)
        return ZERO
    if to in (Status.CANCELED, Status.FAILED):
        if order.kind == ProductKind.OTP and order.otp_code:
            return ZERO  # the code was delivered: the number was used
        return order.charge
    if to == Status.PARTIAL and order.kind == ProductKind.SMM and order.remains:
        return min(floor_money(Decimal(order.remains) * order.unit_price / 1000), order.charge)
    return ZERO


def order_transition(
    order: Order, *, to: Status, reason: str, actor: User | None = None, expected: str | None = None, **fields
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
                order=order, from_status=seen, to_status=to.value, reason=reason[:300], actor=actor
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


def order_apply_status(order: Order, result: StatusResult, *, reason: str = "refresh") -> bool:
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
    return order_transition(order, to=new, reason=reason, **fields)


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
    return order_transition(order, to=to, reason=f"{delivered}/{len(states)} delivered")


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


def order_action(user: User, order: Order, action: str) -> ActionOutcome:
    """Run a reseller action on their order. Raises OrderActionError when it is not allowed now."""
    _owned(user, order)
    if action not in allowed_actions(order):
        raise OrderActionError(_("This action is not available for this order now."))
    adapter = provider_adapter(order.provider)
    try:
        if action == "refill":
            refill = adapter.refill(order.external_id)
            Order.objects.filter(pk=order.pk).update(refill_id=refill.refill_id[:100])
            order.refill_id = refill.refill_id
            _note(order, _("Refill requested (#%(id)s).") % {"id": refill.refill_id}, user)
            return ActionOutcome(True, _("Refill requested."))
        result = {"cancel": adapter.cancel, "resend": adapter.resend, "done": adapter.done}[action](order.external_id)
    except ProviderNotSupported as exc:
        raise OrderActionError(_("This action is not available for this order now.")) from exc
    except ProviderRejected as exc:
        raise OrderActionError(_("The provider refused: %(reason)s") % {"reason": exc.message[:150]}) from exc
    except ProviderError as exc:
        raise OrderActionError(_("The provider did not answer; try again in a moment.")) from exc
    if not result.ok:
        raise OrderActionError(_("The provider refused: %(reason)s") % {"reason": result.message or "-"})
    if order.kind == ProductKind.OTP and action == "cancel":
        order_transition(order, to=Status.CANCELED, reason="canceled by reseller", actor=user)
        return ActionOutcome(True, _("Order canceled; the charge has been refunded."))
    if action == "done":
        order_transition(order, to=Status.COMPLETED, reason="marked done by reseller", actor=user)
        return ActionOutcome(True, _("Order finished."))
    _note(order, _("%(action)s requested.") % {"action": action}, user)
    return ActionOutcome(True, _("Request sent to the provider."))


def _note(order: Order, reason: str, actor: User | None) -> None:
    OrderEvent.objects.create(order=order, from_status=order.status, to_status=order.status, reason=reason, actor=actor)


# --- operator resolutions of `unknown` orders ------------------------------------------------------
def order_resolve_placed(order: Order, external_id: str, *, actor: User) -> bool:
    """An operator found the order upstream: attach its id and let the refresh take it from there."""
    external_id = external_id.strip()
    if not external_id:
        raise OrderActionError(_("Enter the upstream order id."))
    if order.status not in (Status.UNKNOWN, Status.SUBMITTING):
        raise OrderActionError(_("Only orders in 'unknown' can be resolved."))
    return order_transition(
        order,
        to=Status.PENDING,
        reason=f"resolved as placed upstream ({external_id})",
        actor=actor,
        external_id=external_id[:100],
        error="",
    )


def order_resolve_failed(order: Order, *, actor: User, note: str = "") -> bool:
    """An operator established the order never happened upstream: fail it and refund in full."""
    if order.status not in (Status.UNKNOWN, Status.SUBMITTING):
        raise OrderActionError(_("Only orders in 'unknown' can be resolved."))
    if order.kind == ProductKind.SMS:
        order.recipients.update(state=DeliveryState.REJECTED, text="resolved as failed")
    return order_transition(
        order,
        to=Status.FAILED,
        reason=f"resolved as failed by operator {note}".strip()[:300],
        actor=actor,
        error=_("The order did not go through. Your balance has been refunded."),
    )
