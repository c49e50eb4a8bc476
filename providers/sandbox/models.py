"""Sandbox state: simulated upstream accounts and the orders placed with them.

Every time-dependent outcome is fixed when the order is accepted (when the code arrives, when the
SMM order finishes and how, when the DLR is due and with which code). Reads compare those
timestamps with the clock, so no background process is needed.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone


def sandbox_kinds() -> list[tuple[str, str]]:
    """The registered simulated vendors (providers.sandbox.protocols), read when a form is built."""
    from .protocols import kind_choices  # the protocol modules import these models

    return kind_choices()


class Fault(models.TextChoices):
    NONE = "none", "none"
    TIMEOUT = "timeout", "timeout (sleep, do nothing, HTTP 504)"
    HTML502 = "html502", "HTML 502 page"
    INVALID_JSON = "invalid_json", "invalid JSON (after doing the action)"
    EMPTY = "empty", "empty 200 body (after doing the action)"
    WRONG_TYPES = "wrong_types", "valid JSON of the wrong shape (after doing the action)"
    LOSE_REPLY = "lose_reply", "lose reply (do the action, then sleep)"


class FaultScope(models.TextChoices):
    ALL = "all", "every action"
    ORDER = "order", "placement actions only"
    STATUS = "status", "status/refresh actions only"


class SandboxAccount(models.Model):
    kind = models.CharField(max_length=20, choices=sandbox_kinds)
    name = models.CharField(max_length=100)
    api_key = models.CharField(max_length=100, blank=True, db_index=True)
    user_id = models.CharField(max_length=50, blank=True, help_text="Osimesa: signs with md5(user_id + api_key).")
    username = models.CharField(max_length=100, blank=True, help_text="masking_http login.")
    password = models.CharField(max_length=100, blank=True, help_text="masking_http login.")
    balance = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    callback_url = models.URLField(
        max_length=500, blank=True, help_text="masking_http: the DLR URL registered with the provider."
    )
    otp_delay_seconds = models.IntegerField(default=20, help_text="Seconds until the OTP arrives; < 0 = never.")
    smm_step_seconds = models.PositiveIntegerField(default=15)
    prepaid_delay_seconds = models.PositiveIntegerField(default=10)
    dlr_delay_seconds = models.PositiveIntegerField(default=5)
    fault = models.CharField(max_length=20, choices=Fault.choices, default=Fault.NONE)
    fault_scope = models.CharField(max_length=10, choices=FaultScope.choices, default=FaultScope.ALL)
    fault_delay_seconds = models.PositiveIntegerField(default=30)
    allowed_ips = models.CharField(
        max_length=300,
        blank=True,
        help_text="RajaSMS: client IP addresses the account accepts, comma-separated; others get globalstatus 40 "
        "(Ip address not register). Empty = any.",
    )
    balance_expires_on = models.DateField(
        null=True,
        blank=True,
        help_text="RajaSMS: the balance's Expired date (WIB). Empty = a year after the account was created. "
        "Once it has passed, sends answer globalstatus 50 (Expired Balance).",
    )
    catalogue_size = models.PositiveIntegerField(
        default=0, help_text="Items in the generated catalogue; 0 = the kind's default size."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="sandbox_account_balance_gte_0"),
            models.UniqueConstraint(
                fields=["kind", "api_key"], condition=~models.Q(api_key=""), name="sandbox_account_unique_key"
            ),
            models.UniqueConstraint(
                fields=["kind", "username"], condition=~models.Q(username=""), name="sandbox_account_unique_login"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def protocol(self):  # -> providers.sandbox.protocols.SandboxProtocol
        from .protocols import protocol_of  # the protocol modules import these models

        return protocol_of(self.kind)


class DlrState(models.TextChoices):
    NONE = "none", "no callback"
    PENDING = "pending", "pending"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class SandboxOrder(models.Model):
    """One accepted order / number / SMS / prepaid transaction of a sandbox account."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    service_id = models.CharField(max_length=64, blank=True)
    service_name = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True, help_text="SMM category, prepaid product type.")
    route = models.CharField(max_length=20, blank=True, help_text="RajaSMS route: reguler, masking, otp.")
    operator = models.CharField(max_length=20, blank=True)
    target = models.CharField(max_length=64, blank=True, help_text="OTP number, SMS/prepaid destination.")
    link = models.CharField(max_length=500, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    message = models.TextField(blank=True)

    cost = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    # What the vendor gives back once the order is final (at `final_at`); applied once (`refunded_at`).
    refund = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    final_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # Final vendor status decided at placement: SMM status, prepaid status, DLR code.
    outcome = models.CharField(max_length=30, blank=True)
    remains = models.PositiveIntegerField(default=0, help_text="SMM: remains once final.")
    # Set by explicit actions (VirtuSIM set_status, SMM cancel); overrides the timed progression.
    closed_status = models.CharField(max_length=30, blank=True)
    voucher = models.CharField(max_length=64, blank=True)

    # VirtuSIM
    ready_at = models.DateTimeField(null=True, blank=True)
    otp_at = models.DateTimeField(null=True, blank=True, help_text="When the (latest) code arrives.")
    resend_count = models.PositiveIntegerField(default=0)
    previous_sms = models.TextField(blank=True, help_text="The code SMS shown until a resent one arrives.")

    # Delivery reports (RajaSMS, masking_http)
    callback_url = models.CharField(max_length=500, blank=True)
    dlr_at = models.DateTimeField(null=True, blank=True)
    dlr_state = models.CharField(max_length=10, choices=DlrState.choices, default=DlrState.NONE)
    dlr_sent_at = models.DateTimeField(null=True, blank=True)
    dlr_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    dlr_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["dlr_state", "dlr_at"], name="sandbox_ord_dlr_idx")]

    def __str__(self) -> str:
        return f"{self.account.kind} #{self.external_id}"


class SandboxRefill(models.Model):
    """An SMM v2 refill request; its status moves on with the account's `smm_step_seconds`."""

    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="refills")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"refill {self.pk} of {self.order}"
