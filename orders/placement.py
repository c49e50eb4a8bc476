"""Accepting an order: validate, price, and in one transaction charge the wallet and create the order
with its price frozen (ARCHITECTURE: Orders). The reply goes out at once with the panel's own id; the
submitter (orders.submitter) hands the order to the provider afterwards.

The exception is an OTP number, whose reply must carry the number: it is sent in the request, inside a
slot of the provider's bulkhead taken *before* any money moves, so a busy or failing provider is refused
at once with nothing charged.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import InsufficientBalance, wallet_debit
from orders import submission
from orders.models import EventCode, Order, OrderEvent, OrderRecipient, OrderStatus
from orders.quotes import OrderInvalid, Problem, Quote, order_quote, repeat_refusal
from orders.submission import new_claim, order_submit
from providers.adapters.errors import ProviderUnavailable
from providers.adapters.types import FINAL_STATUSES, ProductKind
from providers.services import provider_guard


def order_place(user: User, *, source: str = "web", **request) -> Order:
    """Validate, charge and accept an order. Raises OrderInvalid (nothing charged, nothing written).

    SMM, prepaid and SMS orders come back `submitting`: the submitter sends them on. An OTP order comes
    back as the provider answered (pending with its number, failed and refunded, or unknown)."""
    quote = order_quote(user, **request)
    if quote.kind == ProductKind.OTP:
        return _place_now(user, quote, source)
    order = _order_create(user, quote, source)
    submission.submission_requested([order])
    return order


def orders_place(
    user: User,
    requests: Sequence[dict],
    *,
    source: str = "api",
    callback_url: str = "",
    client_protocol: str = "",
) -> list[Order]:
    """Several orders accepted together: all are charged and created in one transaction, or none is
    (the first OrderInvalid raised refuses the whole lot). For one API call that becomes several orders.
    `callback_url` and `client_protocol` say where and in which shape delivery reports are forwarded."""
    quotes = [order_quote(user, **request) for request in requests]
    if any(q.kind == ProductKind.OTP for q in quotes):
        raise ValueError("OTP orders are placed one at a time")
    with transaction.atomic():
        orders = [
            _order_create(user, quote, source, callback_url=callback_url, client_protocol=client_protocol)
            for quote in quotes
        ]
    submission.submission_requested(orders)
    return orders


def _place_now(user: User, quote: Quote, source: str) -> Order:
    try:
        with provider_guard(quote.service.provider).slot():
            order = _order_create(user, quote, source, claim=new_claim(inline=True))
            order_submit(order)
    except ProviderUnavailable as exc:  # the guard said no before anything was charged or sent
        busy = _("The provider is busy right now; try again in a moment.")
        raise OrderInvalid.of("service", Problem.PROVIDER_BUSY, busy) from exc
    return order


def _order_create(
    user: User, quote: Quote, source: str, claim: str = "", callback_url: str = "", client_protocol: str = ""
) -> Order:
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
            client_callback_url=callback_url,
            client_protocol=client_protocol,
            submit_claim=claim,
            submit_claimed_at=timezone.now() if claim else None,
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
            raise OrderInvalid.of("__all__", Problem.INSUFFICIENT_BALANCE, str(exc)) from exc  # rolls back the order
        # Again under the wallet row's lock (the debit above): two requests racing past the quote cannot both
        # open a repeat order of a product without `multi`. Raising rolls back the order and its charge.
        if quote.kind == ProductKind.PREPAID and not quote.service.multi:
            others = Order.objects.filter(user=user, service=quote.service, target=quote.target).exclude(pk=order.pk)
            if others.exclude(status__in=[s.value for s in FINAL_STATUSES]).exists():
                raise repeat_refusal()
        if quote.messages:
            OrderRecipient.objects.bulk_create(
                OrderRecipient(order=order, number=number, message=text, segments=parts)
                for number, text, parts in zip(quote.recipients, quote.messages, quote.recipient_segments, strict=True)
            )
        elif quote.recipients:
            OrderRecipient.objects.bulk_create(OrderRecipient(order=order, number=n) for n in quote.recipients)
        OrderEvent.objects.create(order=order, to_status=OrderStatus.SUBMITTING, code=EventCode.PLACED)
    return order
