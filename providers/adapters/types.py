"""Plain, frozen values that adapters return. No ORM here: adapters know HTTP and vendors only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .guard import GuardLimits


class ProductKind(StrEnum):
    OTP = "otp"
    SMM = "smm"
    PREPAID = "prepaid"
    SMS = "sms"


class Status(StrEnum):
    """The panel's normalized order status (ARCHITECTURE: Orders)."""

    SUBMITTING = "submitting"
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"
    CANCELED = "canceled"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.COMPLETED, Status.PARTIAL, Status.CANCELED, Status.FAILED})


class DeliveryState(StrEnum):
    """Per-recipient SMS delivery state."""

    QUEUED = "queued"  # accepted by the gateway, no report yet
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"  # charged upstream but not delivered
    REJECTED = "rejected"  # refused by the gateway; not charged upstream (refundable)

    @property
    def is_final(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.REJECTED)


class Capability(StrEnum):
    SERVICES = "services"  # fetch_services returns a catalogue
    MULTI_STATUS = "multi_status"  # fetch_statuses asks for many ids in one call
    CANCEL = "cancel"
    REFILL = "refill"
    REFILL_STATUS = "refill_status"
    RESEND = "resend"  # OTP: ask for another SMS
    DONE = "done"  # OTP: mark finished
    READY = "ready"  # OTP: start waiting (VirtuSIM set_status 1)
    CALLBACKS = "callbacks"  # pushes delivery reports to /callbacks/...
    REPORT_POLL = "report_poll"  # SMS delivery report can be polled per message
    RECENT_ORDERS = "recent_orders"  # can list recent upstream orders (reconciliation)
    SENT_REPORT = "sent_report"  # SMS: a report of everything sent in a date range (daily reconciliation)
    INBOX = "inbox"  # SMS: incoming messages can be fetched
    BALANCE = "balance"


@dataclass(frozen=True)
class ProviderConfig:
    """What an adapter needs from a Provider row (decrypted by the caller)."""

    base_url: str
    api_key: str = ""
    user_id: str = ""
    username: str = ""
    password: str = ""
    # every stored credential by name, the four above included: where a protocol's own secrets are read
    credentials: Mapping[str, str] = field(default_factory=dict)
    name: str = ""  # for messages and logs
    callback_url: str = ""  # where the vendor should push delivery reports (RajaSMS callbackurl)
    connect_timeout: float = 5.0
    read_timeout: float = 25.0
    options: Mapping[str, Any] = field(default_factory=dict)  # per-kind switches, e.g. smm_v2 "extended"
    currency: str = ""  # the upstream's money (Provider.currency); "" = not known yet
    guard_key: str = ""  # which bulkhead and breaker this provider's calls share ("" = one per base URL)
    guard_limits: GuardLimits = field(default_factory=GuardLimits)


@dataclass(frozen=True)
class ServiceInfo:
    """One catalogue item as the upstream describes it. `cost` is per unit of the vendor's price:
    per number (OTP), per 1000 (SMM), per item (prepaid), per SMS (SMS routes)."""

    external_id: str
    name: str
    category: str
    kind: ProductKind
    cost: Decimal
    min_qty: int = 1
    max_qty: int = 1
    stock: int | None = None  # VirtuSIM "tersedia"
    in_stock: bool = True  # Osimesa status ready/empty; False when stock == 0
    can_refill: bool = False
    can_cancel: bool = False
    cutoff_start: time | None = None  # daily window (WIB) when the product cannot be bought
    cutoff_end: time | None = None
    description: str = ""
    service_type: str = ""  # the vendor's product type as sent (SMM v2 `type`)
    multi: bool = True  # Osimesa `multi`: a repeat order for the same target may run while one is open
    product_type: str = ""  # Osimesa category.type (pulsa-reguler, paket-internet...)
    upstream_updated_at: datetime | None = None  # Osimesa `updated_at`: when the vendor last changed the item
    price_levels: Mapping[str, Decimal] = field(default_factory=dict)  # Osimesa price.list: level -> price
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderRequest:
    kind: ProductKind
    service_id: str = ""  # upstream service / product code; SMS: the route ("reguler", "masking", "otp")
    quantity: int = 1  # SMM
    link: str = ""  # SMM
    operator: str = "any"  # OTP: telkomsel, axis, indosat, any
    target: str = ""  # prepaid data_no
    message: str = ""  # SMS
    recipients: tuple[str, ...] = ()  # SMS, normalized 62...
    messages: tuple[str, ...] = ()  # SMS: one per recipient when they differ (a bulk API send); else `message`
    schedule: datetime | None = None  # SMS sendingdatetime (aware; adapters format in WIB)
    reference: str = ""  # the panel's own order id, for logs

    def message_for(self, index: int) -> str:
        """The text for recipient `index`."""
        return self.messages[index] if self.messages else self.message


@dataclass(frozen=True)
class RecipientResult:
    """One SMS packet as the gateway answered it."""

    number: str
    external_id: str  # RajaSMS sendingid / masking report id; "" when rejected
    state: DeliveryState
    code: str = ""  # vendor's numeric code as text
    text: str = ""
    price: Decimal | None = None


@dataclass(frozen=True)
class PlacedOrder:
    external_id: str
    status: Status
    raw_status: str
    number: str = ""  # OTP: the phone number handed out
    voucher: str = ""  # prepaid serial / voucher
    charge: Decimal | None = None  # what the upstream says it charged, when it says
    recipients: tuple[RecipientResult, ...] = ()  # SMS
    message: str = ""  # vendor's human message
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusResult:
    external_id: str
    status: Status
    raw_status: str
    found: bool = True  # False: the upstream says this id does not exist
    remains: int | None = None  # SMM
    start_count: int | None = None  # SMM
    charge: Decimal | None = None
    otp_code: str = ""  # OTP: the code extracted from the SMS, "" while waiting
    sms_text: str = ""  # OTP: the whole SMS
    number: str = ""  # OTP number / prepaid target
    voucher: str = ""  # prepaid serial
    service_id: str = ""  # for reconciliation matching
    created_at: datetime | None = None
    error: str = ""  # per-id error in a batch reply
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefillResult:
    refill_id: str
    status: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionResult:
    """Reply to an OTP set_status (ready, cancel, resend, done) or an SMM cancel."""

    ok: bool
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReport:
    """One SMS delivery report, pushed by callback or pulled from a report endpoint."""

    external_id: str  # RajaSMS sendingid / masking session_id (report id)
    number: str
    state: DeliveryState
    code: str
    text: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderBalance:
    amount: Decimal
    currency: str = "IDR"
    expires: str = ""  # the vendor's own text (RajaSMS `Expired`), kept even when it cannot be read
    expires_on: date | None = None  # the same as a date, when it could be read
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SentSms:
    """One row of an SMS gateway's report of what it sent (masking reports_post.php)."""

    external_id: str  # the report id the send reply gave
    number: str
    sent_at: datetime | None
    message: str
    parts: int | None  # SMS the gateway counted (and billed, unless No Charge)
    code: str  # the vendor's delivery code as text ("22"), or "" when it gave only a text
    state: DeliveryState | None  # None: a status the adapter does not know
    text: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingSms:
    """One message in an SMS gateway's inbox (masking inbox.php)."""

    external_id: str  # "" when the gateway gives no id
    number: str  # the sender
    received_at: datetime | None
    text: str
    raw: Mapping[str, Any] = field(default_factory=dict)
