"""Users, reseller tiers, the wallet and its append-only ledger, and API keys.

Money invariants live in the database: a wallet balance can never go negative, every entry's sign
matches its kind, and an order has at most one charge and at most one refund.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .money import format_rupiah

MONEY = {"max_digits": 14, "decimal_places": 2}


class Tier(models.Model):
    """A reseller price level; markup rules are set per tier."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default for new resellers"), default=False)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_tier")
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Staff users are operators; everyone else is a reseller."""

    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_reseller(self) -> bool:
        return not self.is_staff


class Wallet(models.Model):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="wallet", verbose_name=_("user"))
    balance = models.DecimalField(_("balance"), default=0, **MONEY)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.user}: {format_rupiah(self.balance)}"


class LedgerKind(models.TextChoices):
    DEPOSIT = "deposit", _("deposit")
    CHARGE = "charge", _("charge")
    REFUND = "refund", _("refund")
    ADJUSTMENT = "adjustment", _("adjustment")


class LedgerEntry(models.Model):
    """One balance change. Append-only: written by accounts.services, never updated or deleted."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries", verbose_name=_("wallet"))
    kind = models.CharField(_("kind"), max_length=12, choices=LedgerKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)  # signed: + credits the wallet, - debits it
    balance_after = models.DecimalField(_("balance after"), **MONEY)
    # The order this entry pays for or refunds. A plain id, not a foreign key: accounts sits below
    # orders in the dependency order (ARCHITECTURE: panel -> orders -> providers -> accounts).
    order_id = models.BigIntegerField(_("order"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["wallet", "-id"], name="ledger_wallet_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind="charge") | (Q(amount__lt=0) & Q(order_id__isnull=False)),
                name="ledger_charge_is_debit_for_order",
            ),
            models.CheckConstraint(
                condition=~Q(kind="refund") | (Q(amount__gt=0) & Q(order_id__isnull=False)),
                name="ledger_refund_is_credit_for_order",
            ),
            models.CheckConstraint(condition=~Q(kind="deposit") | Q(amount__gt=0), name="ledger_deposit_is_credit"),
            models.CheckConstraint(
                condition=Q(kind__in=["deposit", "charge", "refund", "adjustment"]), name="ledger_kind_valid"
            ),
            # One charge and at most one refund per order: a task or callback that runs twice cannot pay twice.
            models.UniqueConstraint(
                fields=["order_id", "kind"],
                condition=Q(kind__in=["charge", "refund"]),
                name="ledger_one_charge_one_refund_per_order",
            ),
        ]

    def __str__(self) -> str:
        return _("Entry #%(id)s · %(user)s · %(kind)s · %(amount)s") % {
            "id": self.pk,
            "user": self.wallet.user,
            "kind": self.get_kind_display(),
            "amount": format_rupiah(self.amount),
        }

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are append-only")


class ApiKey(models.Model):
    """A reseller's API key. Only a SHA-256 of the key is kept; the key is shown once on rotation."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_key", verbose_name=_("user"))
    prefix = models.CharField(_("prefix"), max_length=8, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # One normalized address or network per line (accounts.services.apikey_set_allowed_ips); empty = any address.
    allowed_ips = models.TextField(_("allowed IP addresses"), blank=True, default="")
    # Masking HTTP API (orders.api.masking): where the panel sends this reseller's delivery reports, one URL
    # per user as the gateway's "Callable API DLR" is (provider-docs 003, reseller note). Kept on rotation.
    masking_callback_url = models.URLField(_("masking delivery report URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class DepositMethod(models.TextChoices):
    BANK = "bank", _("Bank transfer")
    QRIS = "qris", _("QRIS")
    OTHER = "other", _("Other")


class DepositStatus(models.TextChoices):
    PENDING = "pending", _("waiting for approval")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class DepositRequest(models.Model):
    """A reseller's top-up request. An operator's approval credits the wallet exactly once."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="deposit_requests", verbose_name=_("user"))
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("method"), max_length=10, choices=DepositMethod.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DepositStatus.choices, default=DepositStatus.PENDING)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decision_note = models.CharField(_("operator note"), max_length=300, blank=True)
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("ledger entry")
    )

    class Meta:
        verbose_name = _("deposit request")
        verbose_name_plural = _("deposit requests")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="deposit_user_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(ledger_entry__isnull=False), name="deposit_approved_has_entry"
            ),
        ]

    def __str__(self) -> str:
        return _("Deposit #%(id)s · %(user)s · %(amount)s · %(status)s") % {
            "id": self.pk,
            "user": self.user,
            "amount": format_rupiah(self.amount),
            "status": self.get_status_display(),
        }
