"""Handing accepted orders to their provider: claims, the upstream call and its three outcomes, and the
sweep that finds orders nobody is sending (ARCHITECTURE: Orders, step 2).

An order is sent only by the holder of its claim (`submit_claim`, taken by a guarded UPDATE on a
`submitting` order nobody holds), so two senders never send one order. The outcome ends the claim:
- accepted: the upstream id and status are recorded (`pending` / `processing`);
- refused, or never sent: `failed` with a full refund (an SMS send first tries the next route);
- reply lost or garbled: `unknown`, no refund, reconciled later;
- held back by the panel's own guard (bulkhead full, breaker open): nothing was sent, so the claim is
  released and the order waits for a later run; after SUBMIT_GIVE_UP_MINUTES it is failed and refunded.
A claim older than any upstream call can last means its sender died mid-call: the order may or may not
exist upstream, so it becomes `unknown` (reconciled, never sent again).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.forwarding import delivery_forward
from orders.models import EventCode, Order, OrderEvent, OrderRecipient
from orders.quotes import sms_routes
from orders.services import order_transition, sms_settle
from providers.adapters.errors import (
    ProviderAccountError,
    ProviderError,
    ProviderNotSupported,
    ProviderRejected,
    ProviderUnavailable,
    Refusal,
    held_back,
)
from providers.adapters.types import DeliveryState, OrderRequest, PlacedOrder, ProductKind, Status
from providers.models import Service
from providers.services import provider_adapter, provider_guard, provider_record_error, provider_refusal_noted

logger = logging.getLogger(__name__)

ACCEPTED, FAILED, UNKNOWN, DEFERRED = "accepted", "failed", "unknown", "deferred"


INLINE = "inline-"  # claims of a request that sends its own order (OTP): nobody will retry it later


def release_connection() -> None:
    """Give this thread's database connection back to the pool before a call that may take seconds, so
    threads waiting on an upstream hold no connection (the web processes, deploy/gunicorn.conf.py). Without
    a pool it keeps the connection: closing would mean a new one (a PostgreSQL backend) for every call.
    Never inside a transaction, whose work it would end."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()


def new_claim(inline: bool = False) -> str:
    return (INLINE if inline else "") + uuid.uuid4().hex[: 32 - len(INLINE) * inline]


def stale_claim_after() -> timedelta:
    """Longer than one order's sending can take (every SMS route tried once, each to its timeouts)."""
    one_call = settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT
    return timedelta(seconds=max(300, 4 * one_call))


# --- asking for a submission -------------------------------------------------------------------------
def submission_requested(orders: Sequence[Order]) -> None:
    """Wake the submitter once the transaction accepting `orders` has committed. Replaced by an inline send
    of these very orders in the test suite's default fixture (tests/conftest.py); tests of the queue itself
    keep this one."""
    from orders.submitter import kick

    transaction.on_commit(kick)


# --- claims ------------------------------------------------------------------------------------------
def orders_claim(provider_id: int, limit: int, claim: str) -> list[Order]:
    """Take up to `limit` unheld `submitting` orders of one provider, oldest first."""
    if limit <= 0:
        return []
    candidates = list(
        Order.objects.filter(provider_id=provider_id, status=Status.SUBMITTING, submit_claim="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return []
    Order.objects.filter(pk__in=candidates, status=Status.SUBMITTING, submit_claim="").update(
        submit_claim=claim, submit_claimed_at=timezone.now()
    )
    return list(Order.objects.filter(pk__in=candidates, submit_claim=claim).select_related("service", "provider"))


def orders_submit_now(orders: Sequence[Order]) -> list[str]:
    """Claim and send these accepted orders in this thread, updating the instances (commands, tests)."""
    claim = new_claim()
    outcomes = []
    for order in orders:
        if not Order.objects.filter(pk=order.pk, status=Status.SUBMITTING, submit_claim="").update(
            submit_claim=claim, submit_claimed_at=timezone.now()
        ):
            continue
        order.submit_claim = claim
        outcomes.append(order_submit(order))
    return outcomes


def order_release(order: Order) -> None:
    """Give a claimed order back, untouched upstream, for a later run."""
    Order.objects.filter(pk=order.pk, status=Status.SUBMITTING, submit_claim=order.submit_claim).update(
        submit_claim="", submit_claimed_at=None
    )


# --- one order ---------------------------------------------------------------------------------------
def _request_for(order: Order) -> OrderRequest:
    numbers: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    if order.kind == ProductKind.SMS:
        rows = list(order.recipients.order_by("pk").values_list("number", "message"))
        numbers = tuple(number for number, _text in rows)
        if any(text for _number, text in rows):
            messages = tuple(text or order.message for _number, text in rows)
    return OrderRequest(
        kind=ProductKind(order.kind),
        service_id=order.service.external_id,
        quantity=order.quantity,
        link=order.target if order.kind == ProductKind.SMM else "",
        operator=order.operator or "any",
        target=order.target if order.kind == ProductKind.PREPAID else "",
        message=order.message,
        recipients=numbers,
        messages=messages,
        schedule=order.schedule_at,
        reference=str(order.pk),
    )


def _fallback_routes(order: Order) -> list[Service]:
    """The SMS routes of the order's type after its own one, in the operator's priority order."""
    if order.kind != ProductKind.SMS:
        return []
    routes = sms_routes(order.service.external_id)
    ids = [route.pk for route in routes]
    after = ids.index(order.service_id) + 1 if order.service_id in ids else 0
    return routes[after:]


def order_submit(order: Order) -> str:
    """Send a `submitting` order upstream and record what happened; the caller holds its claim. Returns
    ACCEPTED, FAILED, UNKNOWN or DEFERRED. Never raises for upstream trouble."""
    fallback = _fallback_routes(order)
    while True:
        try:
            # The breaker only: the caller bounds its own concurrency (the submitter's lanes), or holds the
            # provider's bulkhead slot already (an OTP order in its request).
            with provider_guard(order.provider).slot(bulkhead=False):
                adapter, request = provider_adapter(order.provider), _request_for(order)
                release_connection()
                placed = adapter.place_order(request)
        except (ProviderRejected, ProviderUnavailable, ProviderNotSupported) as exc:
            # Nothing happened upstream (refused, never sent, the route cannot do it, or held back by our
            # own guard). An SMS send moves on to the next route of its type.
            if isinstance(exc, ProviderAccountError):  # the panel's account is refused: the operator must act
                logger.warning("provider %s refuses the panel's account: %s", order.provider, exc)
                provider_record_error(order.provider, str(exc))
            if order.kind == ProductKind.SMS and fallback:
                _switch_route(order, fallback.pop(0), reason=f"route {order.provider} refused: {exc}")
                continue
            if held_back(exc) and not order.submit_claim.startswith(INLINE) and not _waited_too_long(order):
                logger.info("order %s held back (%s); will be sent later", order.pk, exc)
                order_release(order)
                return DEFERRED
            logger.info("order %s refused upstream: %s", order.pk, exc)
            _fail_unsent(order, exc)
            return FAILED
        except Exception as exc:  # lost reply, garbled reply or a bug: the order may exist upstream
            logger.warning("order %s outcome unknown: %s", order.pk, exc, exc_info=not isinstance(exc, ProviderError))
            order_transition(
                order,
                to=Status.UNKNOWN,
                code=EventCode.OUTCOME_UNKNOWN,
                reason=f"outcome unknown: {exc}"[:300],
                error=_("The provider did not confirm this order; we are checking it. You will not be charged twice."),
                raw_status=type(exc).__name__,
            )
            return UNKNOWN
        _apply_placed(order, placed)
        return ACCEPTED


def orders_give_up(provider_id: int, claim: str) -> int:
    """Fail and refund the accepted orders of a provider that could not be asked for longer than
    SUBMIT_GIVE_UP_MINUTES (its breaker stayed open): they were never sent. Returns how many."""
    cutoff = timezone.now() - timedelta(minutes=settings.SUBMIT_GIVE_UP_MINUTES)
    ids = list(
        Order.objects.filter(
            provider_id=provider_id, status=Status.SUBMITTING, submit_claim="", created_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    if not ids:
        return 0
    Order.objects.filter(pk__in=ids, status=Status.SUBMITTING, submit_claim="").update(
        submit_claim=claim, submit_claimed_at=timezone.now()
    )
    failed = 0
    for order in Order.objects.filter(pk__in=ids, submit_claim=claim).select_related("service", "provider"):
        gone = ProviderUnavailable("the provider stayed unavailable", provider=str(order.provider))
        failed += _fail_unsent(order, gone)
    return failed


def _fail_unsent(order: Order, exc: ProviderError) -> bool:
    try:
        provider_refusal_noted(order.provider, order.service, exc)
    except Exception:  # noting it for operators must never keep the refund from happening
        logger.exception("order %s: could not note the provider's refusal", order.pk)
    if order.kind == ProductKind.SMS:
        order.recipients.update(state=DeliveryState.REJECTED, text=str(exc)[:200])
        delivery_forward(list(order.recipients.values_list("pk", flat=True)))
    return order_transition(
        order,
        to=Status.FAILED,
        code=EventCode.REFUSED,
        reason=f"upstream refused: {exc}"[:300],
        error=_user_message(exc),
        raw_status=type(exc).__name__,
    )


def _waited_too_long(order: Order) -> bool:
    return timezone.now() - order.created_at > timedelta(minutes=settings.SUBMIT_GIVE_UP_MINUTES)


def _switch_route(order: Order, route: Service, *, reason: str) -> None:
    Order.objects.filter(pk=order.pk, status=Status.SUBMITTING).update(
        service=route, provider=route.provider, unit_cost=route.cost
    )
    order.service, order.provider, order.unit_cost = route, route.provider, route.cost
    OrderEvent.objects.create(
        order=order,
        from_status=Status.SUBMITTING,
        to_status=Status.SUBMITTING,
        code=EventCode.ROUTE_SWITCHED,
        reason=reason,
    )


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
    order_transition(order, to=status, code=EventCode.ACCEPTED, **fields)
    if order.kind == ProductKind.SMS:
        sms_settle(order)


def _store_recipient_results(order: Order, placed: PlacedOrder) -> None:
    """Packets answer in request order (a number may appear once per text in a bulk send)."""
    rows = list(order.recipients.order_by("pk"))
    results = list(placed.recipients)
    if len(results) == len(rows):
        pairs = list(zip(rows, results, strict=True))
    else:
        by_number = {r.number: r for r in results}
        pairs = [(row, by_number[row.number]) for row in rows if row.number in by_number]
    for row, result in pairs:
        row.external_id = result.external_id[:100]
        row.state = result.state.value
        row.code, row.text = result.code[:20], result.text[:200]
    OrderRecipient.objects.bulk_update([row for row, _r in pairs], ["external_id", "state", "code", "text"], 500)
    # The API's reply said "accepted" for every packet: what the gateway said already (refused, or even
    # delivered) reaches the reseller's callbackurl.
    delivery_forward([row.pk for row, _r in pairs if row.state != DeliveryState.QUEUED])


def _user_message(exc: ProviderError) -> str:
    # An account problem (IP not registered, expired balance) is the operator's business, not the reseller's.
    if isinstance(exc, ProviderAccountError):
        return _("The provider could not take the order right now. Your balance has been refunded.")
    if isinstance(exc, ProviderUnavailable):
        return _("The provider could not be reached. Your balance has been refunded.")
    # A refusal whose meaning is known gets the reseller's own words: the vendor's text may mislead (its
    # "Saldo tidak cukup" is about the panel's balance at the provider, not the reseller's).
    if exc.refusal == Refusal.OUT_OF_STOCK:
        return _("No numbers are available for this service right now. Your balance has been refunded.")
    if exc.refusal == Refusal.NO_SERVICE:
        return _("This service is no longer offered. Your balance has been refunded.")
    if exc.refusal == Refusal.LIMIT:
        return _(
            "The provider is handling too many orders right now; try again in a moment. Your balance has been refunded."
        )
    if exc.refusal in (Refusal.AUTH, Refusal.PROVIDER_FUNDS, Refusal.BAD_REQUEST):
        return _("This service is temporarily unavailable. Your balance has been refunded.")
    return _("The provider refused the order (%(reason)s). Your balance has been refunded.") % {
        "reason": exc.message[:150]
    }


# --- the sweep ---------------------------------------------------------------------------------------
def submissions_sweep(now=None) -> dict[str, int]:
    """Orders nobody is sending: a claim older than any call can last (its sender died mid-call) becomes
    `unknown` (never resent: the provider may have it); unheld `submitting` orders make the caller wake the
    submitter. Returns counts {"interrupted", "waiting"}."""
    now = now or timezone.now()
    interrupted = 0
    stale = Order.objects.filter(status=Status.SUBMITTING, submit_claimed_at__lt=now - stale_claim_after())
    for order in stale.select_related("service", "provider"):
        interrupted += order_transition(
            order,
            to=Status.UNKNOWN,
            code=EventCode.OUTCOME_UNKNOWN,
            reason="sending was interrupted",
            error=_("The provider did not confirm this order; we are checking it. You will not be charged twice."),
            raw_status="interrupted",
        )
    waiting = Order.objects.filter(status=Status.SUBMITTING, submit_claim="").count()
    return {"interrupted": interrupted, "waiting": waiting}
