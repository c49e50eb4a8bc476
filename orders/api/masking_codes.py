"""The masking HTTP gateway's delivery codes (provider-docs 003) for the panel's SMS recipients: shared by
its downstream API (orders.api.masking: report.php, reports_post.php) and the delivery reports forwarded to
the reseller's URL (orders.forwarding). Pure functions of a recipient's stored state."""

from __future__ import annotations

from orders.models import OrderRecipient
from providers.adapters.types import DeliveryState

# report.php codes (22/20/50) and the DLR's error_code/error_message (22/20/52/50).
DELIVERED, PENDING, FAILED, NO_CHARGE = "22", "20", "50", "52"
DLR_TEXTS = {DELIVERED: "Delivered", PENDING: "Pending", NO_CHARGE: "No Charge", FAILED: "Failed"}


def recipient_not_charged(recipient: OrderRecipient) -> bool:
    """Was this SMS refunded because it was never charged upstream (a number the gateway refused, a route
    that could not send, the gateway's "No Charge")? The one place the "50, No Charge" reason plugs in: the
    panel's REJECTED state is exactly "not charged upstream, refunded" (providers.adapters.types), and any
    new not-charged outcome an adapter reports arrives as REJECTED."""
    return recipient.state == DeliveryState.REJECTED


def delivery_code(recipient: OrderRecipient) -> str | None:
    """The DLR `error_code` of a recipient: 22 delivered, 20 pending (the gateway has it but no final word
    yet), 52 No Charge (not sent, refunded), 50 failed after sending (charged). None while it is still
    queued in the panel (nothing to report yet)."""
    state = DeliveryState(recipient.state)
    if state == DeliveryState.DELIVERED:
        return DELIVERED
    if state == DeliveryState.QUEUED:
        return None
    if state == DeliveryState.SENT:
        return PENDING
    return NO_CHARGE if recipient_not_charged(recipient) else FAILED
