"""Orders of all four kinds, their SMS recipients, their history, and inbound delivery reports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from providers.adapters.types import DeliveryState, ProductKind, Status
from providers.models import Provider, Service

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT = {"max_digits": 16, "decimal_places": 4}
ACTIVE_STATUSES = (Status.PENDING, Status.PROCESSING)


class OrderStatus(models.TextChoices):
    SUBMITTING = Status.SUBMITTING, _("submitting")
    PENDING = Status.PENDING, _("pending")
    PROCESSING = Status.PROCESSING, _("processing")
    COMPLETED = Status.COMPLETED, _("completed")
    PARTIAL = Status.PARTIAL, _("partial")
    CANCELED = Status.CANCELED, _("canceled")
    FAILED = Status.FAILED, _("failed")
    UNKNOWN = Status.UNKNOWN, _("unknown")


class OrderKind(models.TextChoices):
    OTP = ProductKind.OTP, _("OTP number")
    SMM = ProductKind.SMM, _("Social media")
    PREPAID = ProductKind.PREPAID, _("Prepaid")
    SMS = ProductKind.SMS, _("SMS")


# Labels of DeliveryState (values stay the adapters'): shown on SMS recipients and delivery reports.
DELIVERY_STATES = [
    (DeliveryState.QUEUED.value, _("queued")),
    (DeliveryState.SENT.value, _("sent")),
    (DeliveryState.DELIVERED.value, _("delivered")),
    (DeliveryState.FAILED.value, _("failed")),
    (DeliveryState.REJECTED.value, _("rejected")),
]


class Order(models.Model):
    """One purchase. Prices are frozen at placement: refunds use `unit_price` and `charge`, never today's
    catalogue. `charge` is what the reseller paid (whole Rupiah); `refunded` mirrors the ledger refund."""

    # No single-column index: the (user, -id) indexes below serve every per-user lookup, and a bare
    # user_id index tempts the planner into index-scan + sort on small tables.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reseller"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=10, choices=OrderKind.choices)
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.SUBMITTING)
    raw_status = models.CharField(_("upstream status"), max_length=60, blank=True)
    external_id = models.CharField(_("upstream id"), max_length=100, blank=True)
    # Frozen prices. unit_* are per the service's unit (per 1000 for SMM, per segment for SMS).
    unit_price = models.DecimalField(_("unit price"), **UNIT)
    unit_cost = models.DecimalField(_("unit cost"), **UNIT)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)  # SMM units; SMS segments x recipients
    charge = models.DecimalField(_("charge"), **MONEY)
    cost = models.DecimalField(_("upstream cost"), **MONEY)
    refunded = models.DecimalField(_("refunded"), default=0, **MONEY)
    # Kind-specific.
    target = models.CharField(_("target"), max_length=500, blank=True)  # SMM link / prepaid number / OTP number
    operator = models.CharField(_("operator"), max_length=20, blank=True)  # OTP
    message = models.TextField(_("message"), blank=True)  # SMS
    segments = models.PositiveSmallIntegerField(_("segments"), default=0)  # SMS parts per recipient
    schedule_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)  # SMS
    otp_code = models.CharField(_("OTP code"), max_length=20, blank=True)
    otp_sms = models.TextField(_("SMS text"), blank=True)
    voucher = models.CharField(_("voucher / serial"), max_length=255, blank=True)
    start_count = models.IntegerField(_("start count"), null=True, blank=True)
    remains = models.IntegerField(_("remains"), null=True, blank=True)
    refill_id = models.CharField(_("refill id"), max_length=100, blank=True)
    error = models.CharField(_("message"), max_length=300, blank=True)  # shown to the reseller
    source = models.CharField(_("source"), max_length=10, default="web")  # web / api
    # RajaSMS-compatible API: where to forward this order's delivery reports (the reseller's callbackurl).
    client_callback_url = models.URLField(_("reseller callback URL"), max_length=500, blank=True)
    # The shape of those reports (orders.forwarding): "" = RajaSMS's JSON POST; "masking" = the masking HTTP
    # gateway's GET (session_id, error_code...), for sends through /api/masking/ (orders.api.masking).
    client_protocol = models.CharField(_("reseller protocol"), max_length=12, blank=True)
    # Submission (orders.submission): which sender holds this `submitting` order, since when. A claim that
    # outlives any upstream call means the sender died mid-call: the order becomes `unknown`, never resent.
    submit_claim = models.CharField(_("submission claim"), max_length=32, blank=True, editable=False)
    submit_claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="order_user_recent"),
            models.Index(fields=["user", "kind", "-id"], name="order_user_kind_recent"),
            models.Index(fields=["user", "status", "-id"], name="order_user_status_recent"),
            models.Index(fields=["provider", "external_id"], name="order_provider_external"),
            models.Index(fields=["created_at"], name="order_created"),
            models.Index(
                fields=["provider", "status"],
                name="order_active",
                condition=Q(status__in=["pending", "processing", "unknown", "submitting"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(charge__gte=0), name="order_charge_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("charge")), name="order_refund_within_charge"
            ),
        ]

    def __str__(self) -> str:
        return _("Order #%(id)s · %(kind)s · %(status)s") % {
            "id": self.pk,
            "kind": self.get_kind_display(),
            "status": self.get_status_display(),
        }

    @property
    def is_final(self) -> bool:
        return Status(self.status).is_final

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class OrderRecipient(models.Model):
    """One SMS destination of an order, with its own delivery state."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="recipients")
    number = models.CharField(_("number"), max_length=20)
    # A bulk API send may give each number its own text: then it is here (and its parts), else the order's.
    message = models.TextField(_("message"), blank=True)
    segments = models.PositiveSmallIntegerField(_("segments"), default=0)
    external_id = models.CharField(_("upstream id"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=DELIVERY_STATES, default=DeliveryState.QUEUED)
    code = models.CharField(_("code"), max_length=20, blank=True)
    text = models.CharField(_("text"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        # One packet per number and text: a number appears once in an ordinary send, and once per distinct
        # text in a bulk API send.
        constraints = [
            models.UniqueConstraint(
                fields=["order", "number"], condition=Q(message=""), name="recipient_once_per_order"
            )
        ]
        indexes = [models.Index(fields=["external_id"], name="recipient_external")]

    def __str__(self) -> str:
        return f"{self.number} · {self.get_state_display()}"


class EventCode(models.TextChoices):
    """Why an order's history has an entry; `OrderEvent.reason` adds detail (an upstream's message...)."""

    PLACED = "placed", _("placed")
    ACCEPTED = "accepted", _("accepted upstream")
    REFUSED = "refused", _("refused upstream")
    OUTCOME_UNKNOWN = "outcome_unknown", _("outcome unknown")
    ROUTE_SWITCHED = "route_switched", _("sent through another route")
    REFRESH = "refresh", _("refreshed by the worker")
    REFRESH_PAGE = "refresh_page", _("refreshed for its page")
    REFRESH_API = "refresh_api", _("refreshed for an API status request")
    OTP_EXPIRED = "otp_expired", _("OTP window over")
    DELIVERY = "delivery", _("delivery reports")
    RECONCILED = "reconciled", _("reconciled with the upstream")
    RESOLVED = "resolved", _("resolved by an operator")
    RESELLER_CANCEL = "reseller_cancel", _("canceled by the reseller")
    RESELLER_DONE = "reseller_done", _("marked done by the reseller")
    RESELLER_REQUEST = "reseller_request", _("the reseller's request")
    NOTE = "note", _("note")


class OrderEvent(models.Model):
    """The history of an order: every status transition, and operator actions, with a code and detail."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), auto_now_add=True)
    from_status = models.CharField(_("from"), max_length=12, blank=True, choices=OrderStatus.choices)
    to_status = models.CharField(_("to"), max_length=12, choices=OrderStatus.choices)
    code = models.CharField(_("event"), max_length=20, choices=EventCode.choices, default=EventCode.NOTE)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order history")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.order_id}: {self.get_from_status_display() or '-'} → {self.get_to_status_display()}"


class CallbackEvent(models.Model):
    """One delivery report pushed by an upstream, recorded before anything else so none is lost.

    Unique per (provider, upstream id, code): a callback delivered twice is stored once.
    """

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="callback_events"
    )
    external_id = models.CharField(_("upstream id"), max_length=100)
    number = models.CharField(_("number"), max_length=32, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=DELIVERY_STATES)
    code = models.CharField(_("code"), max_length=20)
    text = models.CharField(_("text"), max_length=200, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback event")
        verbose_name_plural = _("callback events")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "external_id", "code"], name="callback_event_once")]
        indexes = [models.Index(fields=["applied_at"], name="callback_unapplied")]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.external_id} · {self.get_state_display()}"


class WorkerLease(models.Model):
    """A named lease a background run holds while it works (orders.submitter: one submitter at a time)."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    holder = models.CharField(_("holder"), max_length=40, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("worker lease")
        verbose_name_plural = _("worker leases")

    def __str__(self) -> str:
        return _("%(name)s: %(holder)s until %(time)s") % {
            "name": self.name,
            "holder": self.holder or "-",
            "time": f"{self.expires_at:%H:%M:%S}",
        }


class ReconciliationStatus(models.TextChoices):
    OK = "ok", _("compared")
    FAILED = "failed", _("failed")


class SmsReconciliation(models.Model):
    """One day of one SMS gateway compared with the panel's SMS orders (orders.reconcile). Information
    for operators only: no money moves because of a difference. Running the same day again replaces it."""

    provider = models.ForeignKey(Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day (WIB)"))
    status = models.CharField(_("result"), max_length=8, choices=ReconciliationStatus.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    upstream_count = models.PositiveIntegerField(_("SMS in the gateway's report"), default=0)
    panel_count = models.PositiveIntegerField(_("SMS in the panel"), default=0)
    matched_count = models.PositiveIntegerField(_("matching"), default=0)
    unknown_count = models.PositiveIntegerField(_("unknown to the panel"), default=0)
    missing_count = models.PositiveIntegerField(_("missing upstream"), default=0)
    state_count = models.PositiveIntegerField(_("state differs"), default=0)
    price_count = models.PositiveIntegerField(_("price differs"), default=0)
    upstream_cost = models.DecimalField(_("gateway cost"), default=0, **MONEY)
    panel_cost = models.DecimalField(_("panel cost"), default=0, **MONEY)
    ran_at = models.DateTimeField(_("run at"))

    class Meta:
        verbose_name = _("SMS reconciliation")
        verbose_name_plural = _("SMS reconciliations")
        ordering = ["-day", "provider_id"]
        constraints = [models.UniqueConstraint(fields=["provider", "day"], name="sms_reconciliation_once_a_day")]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.day}"

    @property
    def difference_count(self) -> int:
        return self.unknown_count + self.missing_count + self.state_count + self.price_count


class DifferenceKind(models.TextChoices):
    UNKNOWN = "unknown", _("sent upstream, unknown to the panel")
    MISSING = "missing", _("in the panel, missing upstream")
    STATE = "state", _("state differs")
    PRICE = "price", _("price differs")


class SmsDifference(models.Model):
    """One SMS on which the gateway's report and the panel disagree."""

    run = models.ForeignKey(
        SmsReconciliation, verbose_name=_("SMS reconciliation"), on_delete=models.CASCADE, related_name="differences"
    )
    kind = models.CharField(_("difference"), max_length=8, choices=DifferenceKind.choices)
    external_id = models.CharField(_("upstream id"), max_length=100, blank=True)
    number = models.CharField(_("number"), max_length=32, blank=True)
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    panel_state = models.CharField(_("panel state"), max_length=40, blank=True)
    upstream_state = models.CharField(_("gateway state"), max_length=80, blank=True)
    panel_parts = models.PositiveSmallIntegerField(_("panel SMS count"), null=True, blank=True)
    upstream_parts = models.PositiveSmallIntegerField(_("gateway SMS count"), null=True, blank=True)
    panel_cost = models.DecimalField(_("panel cost"), null=True, blank=True, **MONEY)
    upstream_cost = models.DecimalField(_("gateway cost"), null=True, blank=True, **MONEY)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("SMS difference")
        verbose_name_plural = _("SMS differences")
        ordering = ["run_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id or self.number}"


class IdempotentRequest(models.Model):
    """The first reply to an order-creating API call sent with an Idempotency-Key (or the protocol's
    client reference), kept IDEMPOTENCY_TTL so a retry with the same key gets the same reply and is
    charged once (orders.api.idempotency). Unique per (reseller, key): the database, not the code,
    decides which of two concurrent retries runs. `status_code` 0 = claimed, still being handled."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reseller"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=255)
    # sha256 of method, path and the request without credentials
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("reply status"), default=0)
    content_type = models.CharField(_("reply content type"), max_length=100, blank=True)
    body = models.BinaryField(_("reply body"), default=b"")
    created_at = models.DateTimeField(_("created"), db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_once")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key[:40]} ({self.status_code or 'pending'})"


class PriceLevel(models.TextChoices):
    """The Osimesa protocol's price levels (`price.list` in `type=service`)."""

    STANDAR = "standar", "standar"
    PREMIUM = "premium", "premium"
    SPESIAL = "spesial", "spesial"


class PriceLevelTier(models.Model):
    """Which tier's prices the downstream Osimesa API shows at one price level. A level without a row, or a
    product the tier has no price for, shows the calling reseller's own price; `current` is always that."""

    level = models.CharField(_("price level"), max_length=10, choices=PriceLevel.choices, unique=True)
    tier = models.ForeignKey(
        "accounts.Tier", verbose_name=_("tier"), on_delete=models.CASCADE, related_name="price_levels"
    )

    class Meta:
        verbose_name = _("Osimesa price level")
        verbose_name_plural = _("Osimesa price levels")
        ordering = ["level"]

    def __str__(self) -> str:
        return f"{self.level}: {self.tier}"
