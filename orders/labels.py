"""What a reseller reads for the data of an order: delivery notes, history entries and the order's notice.

These are not msgids but data written by gateways (`Delivered Success`), by the worker in its own
language, or by an earlier version; shown as they are, they leak English (and supplier details such as a
gateway's own balance) into the pages. Each is shown instead as a translated label chosen by its code, in
the language of the page that shows it. The raw texts stay in the database for operators (the admin)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.money import format_count
from orders.models import EventCode, Order, OrderEvent, OrderRecipient
from providers.adapters.types import DeliveryState, Status

DELIVERY_LABELS: dict[str, Promise] = {
    DeliveryState.QUEUED: gettext_lazy("queued"),
    DeliveryState.SENT: gettext_lazy("sent"),
    DeliveryState.DELIVERED: gettext_lazy("delivered"),
    DeliveryState.FAILED: gettext_lazy("failed"),
    DeliveryState.REJECTED: gettext_lazy("rejected"),
}

# --- delivery notes --------------------------------------------------------------------------------------
# A handful of notes stand for every gateway text: the reseller needs to know what happened to the SMS,
# not the gateway's wording (and not that the gateway's own balance ran out).
NOTES: dict[str, Promise] = {
    "delivered": gettext_lazy("Delivered to the phone"),
    "waiting": gettext_lazy("Waiting for the delivery report"),
    "scheduled": gettext_lazy("Scheduled"),
    "invalid_number": gettext_lazy("Invalid number"),
    "bad_message": gettext_lazy("Message refused (empty or too long)"),
    "duplicate": gettext_lazy("Duplicate message"),
    "expired": gettext_lazy("Delivery period expired"),
    "refused": gettext_lazy("Refused by the network"),
    "not_delivered": gettext_lazy("Not delivered"),
    "not_sent": gettext_lazy("Not sent"),
}
# Failure codes per protocol (Provider.kind) -> note; the state alone says the rest. Codes overlap between
# protocols (and RajaSMS's send status 10 is not its report code 10), so they are read per protocol and only
# for the failed states.
FAILURE_NOTES: dict[str, dict[str, str]] = {
    "rajasms": {
        "4": "not_delivered",  # Delivered Error
        "5": "not_delivered",  # System Failed
        "6": "not_delivered",  # Saldo Minus/Expired: the gateway account's balance, not the reseller's business
        "7": "refused",  # Reject
        "8": "not_delivered",  # System Error
        "9": "duplicate",  # Duplicate message
        "60": "invalid_number",
        "70": "bad_message",
        "80": "not_sent",  # the gateway account's balance too low
    },
    "masking_http": {
        "50": "not_delivered",  # Insufficient Credit Balance (the gateway account's)
        "51": "expired",  # Expiration Period
        "52": "not_sent",  # No Charge
    },
}
SCHEDULED_CODES: dict[str, set[str]] = {"rajasms": {"1"}}  # 1 Schedule


def delivery_note(recipient: OrderRecipient, protocol: str) -> str:
    """The note shown beside one SMS recipient, chosen by its state and its gateway's code."""
    state, code = recipient.state, recipient.code
    if state == DeliveryState.DELIVERED:
        key = "delivered"
    elif state == DeliveryState.QUEUED:
        key = "waiting"
    elif state == DeliveryState.SENT:
        key = "scheduled" if code in SCHEDULED_CODES.get(protocol, ()) else "waiting"
    elif state in (DeliveryState.FAILED, DeliveryState.REJECTED):
        default = "not_delivered" if state == DeliveryState.FAILED else "not_sent"
        key = FAILURE_NOTES.get(protocol, {}).get(code, default)
    else:
        return ""
    return str(NOTES[key])


# --- history ---------------------------------------------------------------------------------------------
# What a reseller reads for each kind of history entry; the other codes (refreshes, reconciliation, notes)
# are the operators' and show only the status change.
EVENT_LABELS: dict[str, Promise] = {
    EventCode.PLACED: gettext_lazy("Order placed"),
    EventCode.ACCEPTED: gettext_lazy("Accepted by the provider"),
    EventCode.REFUSED: gettext_lazy("Refused by the provider"),
    EventCode.OUTCOME_UNKNOWN: gettext_lazy("Waiting for the provider's confirmation"),
    EventCode.OTP_EXPIRED: gettext_lazy("The OTP window is over"),
    EventCode.ROUTE_SWITCHED: gettext_lazy("Sent through another route"),
    EventCode.RESOLVED: gettext_lazy("Checked by an operator"),
    EventCode.RESELLER_CANCEL: gettext_lazy("Canceled by you"),
    EventCode.RESELLER_DONE: gettext_lazy("Marked done by you"),
}
# A reseller's request (EventCode.RESELLER_REQUEST) stores the action's name as its reason.
REQUEST_LABELS: dict[str, Promise] = {
    "refill": gettext_lazy("Refill requested"),
    "resend": gettext_lazy("New SMS requested"),
}
REQUEST_DEFAULT = gettext_lazy("Request sent to the provider")


def request_label(reason: str) -> str:
    """The label of a reseller's request by its action. Rows written before the action name was stored hold
    a sentence in the language of the day ("Refill requested.", "resend diminta"): the action is in it."""
    words = reason.lower()
    for action, label in REQUEST_LABELS.items():
        if action in words:
            return str(label)
    return str(REQUEST_DEFAULT)


def event_label(event: OrderEvent, order: Order) -> str:
    """What the reseller may read about one history entry (internal detail stays internal)."""
    if event.code in EVENT_LABELS:
        return str(EVENT_LABELS[event.code])
    if event.code == EventCode.RESELLER_REQUEST and event.actor_id == order.user_id:
        return request_label(event.reason)
    if event.code == EventCode.DELIVERY:
        delivered, _sep, total = event.reason.partition("/")  # "3/5": delivered of all recipients
        if delivered.isdigit() and total.isdigit():
            return _("%(delivered)s of %(total)s delivered") % {
                "delivered": format_count(int(delivered)),
                "total": format_count(int(total)),
            }
    return ""


# --- the order's notice ----------------------------------------------------------------------------------
UNREACHABLE = {"ProviderUnavailable", "ProviderBusy", "ProviderCircuitOpen"}  # raw_status: the failure's class
REFUSED = {"ProviderRejected", "ProviderNotSupported"}


def order_notice(order: Order) -> str:
    """The message above a failed order, by how it failed. `Order.error` holds the sentence written when
    it failed, in the language of whoever was working then and with the provider's own words in it; an
    order the provider failed later has none."""
    if order.status != Status.FAILED:
        return ""  # an order checked with the provider (`unknown`) has its own message on the page
    refunded = order.refunded > 0
    if order.raw_status in UNREACHABLE:
        if refunded:
            return _("The provider could not be reached. Your balance has been refunded.")
        return _("The provider could not be reached.")
    if order.raw_status in REFUSED:
        if refunded:
            return _("The provider refused the order. Your balance has been refunded.")
        return _("The provider refused the order.")
    if refunded:
        return _("The order did not go through. Your balance has been refunded.")
    return _("The order did not go through.")
