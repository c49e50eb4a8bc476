"""Sandbox state: simulated upstream accounts and the orders placed with them.

Every time-dependent outcome is fixed when the order is accepted (when the code arrives, when the
SMM order finishes and how, when the DLR is due and with which code). Reads compare those
timestamps with the clock, so no background process is needed.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def sandbox_kinds() -> list[tuple[str, str]]:
    """The registered simulated vendors (providers.sandbox.protocols), read when a form is built."""
    from .protocols import kind_choices  # the protocol modules import these models

    return kind_choices()


class Fault(models.TextChoices):
    NONE = "none", _("none")
    TIMEOUT = "timeout", _("timeout (sleep, do nothing, HTTP 504)")
    HTML502 = "html502", _("HTML 502 page")
    INVALID_JSON = "invalid_json", _("invalid JSON (after doing the action)")
    EMPTY = "empty", _("empty 200 body (after doing the action)")
    WRONG_TYPES = "wrong_types", _("valid JSON of the wrong shape (after doing the action)")
    LOSE_REPLY = "lose_reply", _("lose reply (do the action, then sleep)")


class FaultScope(models.TextChoices):
    ALL = "all", _("every action")
    ORDER = "order", _("placement actions only")
    STATUS = "status", _("status/refresh actions only")


class SandboxAccount(models.Model):
    kind = models.CharField(_("protocol"), max_length=20, choices=sandbox_kinds)
    name = models.CharField(_("name"), max_length=100)
    api_key = models.CharField(_("API key"), max_length=100, blank=True, db_index=True)
    user_id = models.CharField(
        _("user id"), max_length=50, blank=True, help_text=_("Osimesa: signs with md5(user_id + api_key).")
    )
    username = models.CharField(_("username"), max_length=100, blank=True, help_text=_("masking_http login."))
    password = models.CharField(_("password"), max_length=100, blank=True, help_text=_("masking_http login."))
    balance = models.DecimalField(_("balance"), max_digits=16, decimal_places=2, default=Decimal("0"))
    callback_url = models.URLField(
        _("callback URL"),
        max_length=500,
        blank=True,
        help_text=_("masking_http: the DLR URL registered with the provider."),
    )
    otp_delay_seconds = models.IntegerField(
        _("OTP delay (seconds)"), default=20, help_text=_("Seconds until the OTP arrives; < 0 = never.")
    )
    smm_step_seconds = models.PositiveIntegerField(_("SMM step (seconds)"), default=15)
    prepaid_delay_seconds = models.PositiveIntegerField(_("prepaid delay (seconds)"), default=10)
    dlr_delay_seconds = models.PositiveIntegerField(_("delivery report delay (seconds)"), default=5)
    fault = models.CharField(_("fault"), max_length=20, choices=Fault.choices, default=Fault.NONE)
    fault_scope = models.CharField(_("fault scope"), max_length=10, choices=FaultScope.choices, default=FaultScope.ALL)
    fault_delay_seconds = models.PositiveIntegerField(_("fault delay (seconds)"), default=30)
    allowed_ips = models.CharField(
        _("allowed IP addresses"),
        max_length=300,
        blank=True,
        help_text=_(
            "RajaSMS: client IP addresses the account accepts, comma-separated; others get globalstatus 40 "
            "(Ip address not register). Empty = any."
        ),
    )
    balance_expires_on = models.DateField(
        _("balance expires"),
        null=True,
        blank=True,
        help_text=_(
            "RajaSMS: the balance's Expired date (WIB). Empty = a year after the account was created. "
            "Once it has passed, sends answer globalstatus 50 (Expired Balance)."
        ),
    )
    catalogue_size = models.PositiveIntegerField(
        _("catalogue size"), default=0, help_text=_("Items in the generated catalogue; 0 = the kind's default size.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("sandbox account")
        verbose_name_plural = _("sandbox accounts")
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
    NONE = "none", _("no callback")
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class SandboxOrder(models.Model):
    """One accepted order / number / SMS / prepaid transaction of a sandbox account."""

    account = models.ForeignKey(
        SandboxAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="orders"
    )
    external_id = models.CharField(_("upstream id"), max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    service_id = models.CharField(_("service id"), max_length=64, blank=True)
    service_name = models.CharField(_("service name"), max_length=200, blank=True)
    category = models.CharField(
        _("category"), max_length=100, blank=True, help_text=_("SMM category, prepaid product type.")
    )
    route = models.CharField(
        _("route"), max_length=20, blank=True, help_text=_("RajaSMS route: reguler, masking, otp.")
    )
    operator = models.CharField(_("operator"), max_length=20, blank=True)
    target = models.CharField(
        _("target"), max_length=64, blank=True, help_text=_("OTP number, SMS/prepaid destination.")
    )
    link = models.CharField(_("link"), max_length=500, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    message = models.TextField(_("message"), blank=True)

    cost = models.DecimalField(_("cost"), max_digits=16, decimal_places=2, default=Decimal("0"))
    # What the vendor gives back once the order is final (at `final_at`); applied once (`refunded_at`).
    refund = models.DecimalField(_("refund"), max_digits=16, decimal_places=2, default=Decimal("0"))
    final_at = models.DateTimeField(_("final at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    # Final vendor status decided at placement: SMM status, prepaid status, DLR code.
    outcome = models.CharField(_("outcome"), max_length=30, blank=True)
    remains = models.PositiveIntegerField(_("remains"), default=0, help_text=_("SMM: remains once final."))
    # Set by explicit actions (VirtuSIM set_status, SMM cancel); overrides the timed progression.
    closed_status = models.CharField(_("closed status"), max_length=30, blank=True)
    voucher = models.CharField(_("voucher / serial"), max_length=64, blank=True)

    # VirtuSIM
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    otp_at = models.DateTimeField(_("code at"), null=True, blank=True, help_text=_("When the (latest) code arrives."))
    resend_count = models.PositiveIntegerField(_("resends"), default=0)
    previous_sms = models.TextField(
        _("previous SMS"), blank=True, help_text=_("The code SMS shown until a resent one arrives.")
    )

    # Delivery reports (RajaSMS, masking_http)
    callback_url = models.CharField(_("callback URL"), max_length=500, blank=True)
    dlr_at = models.DateTimeField(_("delivery report due"), null=True, blank=True)
    dlr_state = models.CharField(_("delivery report"), max_length=10, choices=DlrState.choices, default=DlrState.NONE)
    dlr_sent_at = models.DateTimeField(_("delivery report sent"), null=True, blank=True)
    dlr_http_status = models.PositiveSmallIntegerField(_("delivery report HTTP status"), null=True, blank=True)
    dlr_error = models.CharField(_("delivery report error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sandbox order")
        verbose_name_plural = _("sandbox orders")
        indexes = [models.Index(fields=["dlr_state", "dlr_at"], name="sandbox_ord_dlr_idx")]

    def __str__(self) -> str:
        return f"{self.account.kind} #{self.external_id}"


class SandboxRefill(models.Model):
    """An SMM v2 refill request; its status moves on with the account's `smm_step_seconds`."""

    order = models.ForeignKey(SandboxOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="refills")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sandbox refill")
        verbose_name_plural = _("sandbox refills")

    def __str__(self) -> str:
        return _("Refill %(id)s of %(order)s") % {"id": self.pk, "order": self.order}
