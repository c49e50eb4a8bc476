"""Upstream providers and their catalogue."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from providers.adapters import KIND_CHOICES
from providers.adapters.types import ProductKind

COST = {"max_digits": 16, "decimal_places": 4}

# SMS gateways have no services endpoint: their products are routes, created with the provider.
SMS_ROUTES: dict[str, tuple[str, ...]] = {"rajasms": ("reguler", "masking", "otp"), "masking_http": ("masking",)}
ROUTE_LABELS = {"reguler": "SMS Reguler", "masking": "SMS Masking", "otp": "SMS OTP"}


def new_callback_token() -> str:
    return secrets.token_hex(20)


class Provider(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("protocol"), max_length=20, choices=KIND_CHOICES)
    base_url = models.URLField(_("API address"), max_length=300)
    # API key, user id, username, password: one Fernet-encrypted JSON blob (providers.crypto). Never shown.
    credentials_enc = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    callback_token = models.CharField(max_length=40, default=new_callback_token, editable=False)
    low_balance_threshold = models.DecimalField(_("low balance alert below"), default=0, **COST)
    last_synced_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_result = models.CharField(_("last sync result"), max_length=300, blank=True)
    last_balance = models.DecimalField(_("last balance"), null=True, blank=True, **COST)
    last_balance_at = models.DateTimeField(_("balance checked"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")

    def __str__(self) -> str:
        return self.name

    @property
    def balance_is_low(self) -> bool:
        return self.last_balance is not None and self.last_balance < self.low_balance_threshold


class Service(models.Model):
    """One product of one provider. SMS routes are Services too (kind sms, external_id = route)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    external_id = models.CharField(_("upstream id"), max_length=100)
    name = models.CharField(_("name"), max_length=255)
    category = models.CharField(_("category"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=[(k.value, k.value.upper()) for k in ProductKind])
    # Upstream price per unit: per number (OTP), per 1000 (SMM), per item (prepaid), per SMS segment (SMS).
    cost = models.DecimalField(_("upstream cost"), **COST)
    min_qty = models.PositiveIntegerField(_("min"), default=1)
    max_qty = models.PositiveIntegerField(_("max"), default=1)
    stock = models.IntegerField(_("stock"), null=True, blank=True)
    in_stock = models.BooleanField(_("in stock"), default=True)
    can_refill = models.BooleanField(_("refill"), default=False)
    can_cancel = models.BooleanField(_("cancel"), default=False)
    cutoff_start = models.TimeField(_("cutoff from"), null=True, blank=True)
    cutoff_end = models.TimeField(_("cutoff until"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    raw = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(_("offered upstream"), default=True)  # False: vanished from the upstream
    is_enabled = models.BooleanField(_("enabled"), default=True)  # operator's switch
    route_priority = models.PositiveSmallIntegerField(_("route priority"), default=100)  # SMS: lower goes first
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["kind", "category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="service_unique_per_provider"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="service_cost_not_negative"),
            models.CheckConstraint(condition=Q(max_qty__gte=models.F("min_qty")), name="service_min_le_max"),
        ]
        indexes = [models.Index(fields=["kind", "is_active", "is_enabled"], name="service_catalogue")]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"
