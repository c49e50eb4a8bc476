"""Upstream providers and their catalogue."""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from accounts.money import format_rupiah
from providers.adapters import ADAPTERS, kind_choices
from providers.adapters.types import ProductKind

COST = {"max_digits": 16, "decimal_places": 4}

# SMS gateways have no services endpoint: their products are routes (the adapter's `sms_routes`), created
# with the provider. The route is the SMS type a reseller picks, whichever gateway carries it.
# The product kinds as the catalogue names them (short: they head columns and filters).
PRODUCT_KINDS = [
    (ProductKind.OTP.value, _("OTP")),
    (ProductKind.SMM.value, _("SMM")),
    (ProductKind.PREPAID.value, _("Prepaid")),
    (ProductKind.SMS.value, _("SMS")),
]
ROUTE_LABELS = {"reguler": "SMS Reguler", "masking": "SMS Masking", "otp": "SMS OTP"}


def new_callback_token() -> str:
    return secrets.token_hex(20)


class Provider(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    # choices read from the adapter registry when a form is built: a new protocol needs no migration
    kind = models.CharField(_("protocol"), max_length=20, choices=kind_choices)
    base_url = models.URLField(_("API address"), max_length=300)
    # API key, user id, username, password: one Fernet-encrypted JSON blob (providers.crypto). Never shown.
    credentials_enc = models.TextField(_("credentials (encrypted)"), blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    callback_token = models.CharField(_("callback token"), max_length=40, default=new_callback_token, editable=False)
    low_balance_threshold = models.DecimalField(_("low balance alert below"), default=0, **COST)
    # The money the upstream's figures are in (e.g. SMM v2 `currency`). Empty: learned from the first
    # balance reply that names one. A status reply in another currency is refused (providers.adapters.smm_v2).
    currency = models.CharField(
        _("currency"),
        max_length=10,
        blank=True,
        help_text=_("The upstream's currency code, e.g. IDR. Empty: learned from its balance reply."),
    )
    last_synced_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_result = models.CharField(_("last sync result"), max_length=300, blank=True)
    last_balance = models.DecimalField(_("last balance"), null=True, blank=True, **COST)
    last_balance_at = models.DateTimeField(_("balance checked"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # The upstream balance's expiry as the vendor reported it (RajaSMS `Expired`): the date when it could be
    # read, and always its text.
    balance_expires_on = models.DateField(_("balance expires"), null=True, blank=True)
    balance_expires_text = models.CharField(_("balance expiry (as reported)"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")

    def __str__(self) -> str:
        return self.name

    @property
    def sms_routes(self) -> tuple[str, ...]:
        """The SMS routes this provider's protocol offers (none for other protocols, or an unknown kind)."""
        adapter = ADAPTERS.get(self.kind)
        return adapter.sms_routes if adapter else ()

    @property
    def balance_is_low(self) -> bool:
        return self.last_balance is not None and self.last_balance < self.low_balance_threshold

    def balance_expiry(self, today: date | None = None) -> str:
        """ "expired" (the date has passed), "soon" (within PROVIDER_BALANCE_EXPIRY_WARN_DAYS), "unreadable"
        (the vendor sent text that is not a date) or "" (fine, or no expiry reported)."""
        if self.balance_expires_on is None:
            return "unreadable" if self.balance_expires_text else ""
        from django.utils import timezone

        today = today or timezone.localdate()
        if self.balance_expires_on < today:
            return "expired"
        if (self.balance_expires_on - today).days <= settings.PROVIDER_BALANCE_EXPIRY_WARN_DAYS:
            return "soon"
        return ""

    @property
    def balance_expiry_state(self) -> str:
        return self.balance_expiry()

    @property
    def balance_expiry_warning(self) -> bool:
        return self.balance_expiry() in ("expired", "soon")


class Service(models.Model):
    """One product of one provider. SMS routes are Services too (kind sms, external_id = route)."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="services"
    )
    external_id = models.CharField(_("upstream id"), max_length=100)
    name = models.CharField(_("name"), max_length=255)
    category = models.CharField(_("category"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=PRODUCT_KINDS)
    # The upstream's own product type (SMM v2 `type`: Default, Package, Custom Comments...), kept as sent.
    service_type = models.CharField(_("type"), max_length=50, blank=True)
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
    # Osimesa: `multi` (False: no second order for the same target while one is open), category.type,
    # `updated_at`, and price.list (the vendor's price at each of its levels, as text: {"standar": "50500"}).
    multi = models.BooleanField(_("repeat orders allowed"), default=True)
    product_type = models.CharField(_("product type"), max_length=60, blank=True)
    upstream_updated_at = models.DateTimeField(_("changed upstream"), null=True, blank=True)
    price_levels = models.JSONField(_("upstream price levels"), default=dict, blank=True)
    raw = models.JSONField(_("upstream data"), default=dict, blank=True)
    is_active = models.BooleanField(_("offered upstream"), default=True)  # False: vanished from the upstream
    is_enabled = models.BooleanField(_("enabled"), default=True)  # operator's switch
    route_priority = models.PositiveSmallIntegerField(_("route priority"), default=100)  # SMS: lower goes first
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

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


# --- Markup pricing -------------------------------------------------------------------------------

PERCENT = {"max_digits": 7, "decimal_places": 2}
RUPIAH = {"max_digits": 14, "decimal_places": 2}


class RuleScope(models.TextChoices):
    SERVICE = "service", _("service")
    CATEGORY = "category", _("category")
    PROVIDER = "provider", _("provider")
    GLOBAL = "global", _("global")


class MarkupRule(models.Model):
    """How cost becomes a sell price for one scope and one tier (or all tiers).

    The scope follows from the target that is set: a service; a category (matched exactly, optionally
    only within one provider); a provider; or nothing (global). The most specific active rule wins
    (service > category of a provider > category > provider > global) and, within one scope, a rule for
    the tier beats a rule for all tiers. Prices are recomputed by providers.pricing.pricing_refresh.
    """

    tier = models.ForeignKey(
        "accounts.Tier",
        verbose_name=_("tier"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="markup_rules",
        help_text=_("Empty: all tiers."),
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.CharField(
        _("category"), max_length=150, blank=True, help_text=_("Matches the service category exactly.")
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("With a category: only that provider's category. Alone: the whole provider."),
    )
    percent = models.DecimalField(_("markup %"), default=0, **PERCENT, help_text=_("10.00 = cost + 10%."))
    fixed = models.DecimalField(_("fixed markup"), default=0, **RUPIAH, help_text=_("Rupiah added per unit."))
    rounding_step = models.DecimalField(
        _("round up to"), default=50, **RUPIAH, help_text=_("Rupiah step the price is rounded up to; 0 or 1 = whole.")
    )
    fixed_price = models.DecimalField(
        _("fixed sell price"),
        null=True,
        blank=True,
        **RUPIAH,
        help_text=_("Absolute price per unit, replacing the markup (service rules only)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("markup rule")
        verbose_name_plural = _("markup rules")
        ordering = ["service", "category", "provider", "tier", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=-100),
                name="markup_percent_min_minus_100",
                violation_error_message=_("The markup cannot be below -100%."),
            ),
            models.CheckConstraint(
                condition=Q(rounding_step__gte=0),
                name="markup_rounding_step_not_negative",
                violation_error_message=_("The rounding step cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(fixed_price__isnull=True) | Q(service__isnull=False),
                name="markup_fixed_price_needs_service",
                violation_error_message=_("A fixed sell price is only possible for a single service."),
            ),
            models.CheckConstraint(
                condition=Q(fixed_price__isnull=True) | Q(fixed_price__gte=0),
                name="markup_fixed_price_not_negative",
                violation_error_message=_("The fixed sell price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=True) | (Q(category="") & Q(provider__isnull=True)),
                name="markup_service_scope_alone",
                violation_error_message=_("A service rule takes no category or provider."),
            ),
        ]

    def __str__(self) -> str:
        if self.fixed_price is not None:
            how = f"= {format_rupiah(self.fixed_price)}"
        else:
            fixed = f" + {format_rupiah(self.fixed)}".replace("+ -", "- ") if self.fixed else ""
            sign = "-" if self.percent < 0 else "+"
            how = f"{sign}{number_format(abs(self.percent))}%{fixed}"
        return f"{self.target_display}, {self.tier or _('all tiers')}: {how}"

    @property
    def scope(self) -> str:
        if self.service_id:
            return RuleScope.SERVICE
        if self.category:
            return RuleScope.CATEGORY
        if self.provider_id:
            return RuleScope.PROVIDER
        return RuleScope.GLOBAL

    @property
    def target_display(self) -> str:
        scope = self.scope
        if scope == RuleScope.SERVICE:
            return str(self.service)
        if scope == RuleScope.CATEGORY:
            return f"{self.category} ({self.provider})" if self.provider_id else self.category
        if scope == RuleScope.PROVIDER:
            return str(self.provider)
        return str(_("everything"))

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        if self.percent is not None and self.percent < -100:
            errors["percent"] = _("The markup cannot be below -100%.")
        if self.rounding_step is not None and self.rounding_step < 0:
            errors["rounding_step"] = _("The rounding step cannot be negative.")
        if self.fixed_price is not None:
            if not self.service_id:
                errors["fixed_price"] = _("A fixed sell price is only possible for a single service.")
            elif self.fixed_price < 0:
                errors["fixed_price"] = _("The fixed sell price cannot be negative.")
        if self.service_id and (self.category or self.provider_id):
            errors["service"] = _("A service rule takes no category or provider.")
        if not errors and self.is_active:
            twins = MarkupRule.objects.filter(
                is_active=True,
                tier_id=self.tier_id,
                service_id=self.service_id,
                category=self.category,
                provider_id=self.provider_id,
            ).exclude(pk=self.pk)
            if twins.exists():
                errors["tier"] = _("An active rule for this scope and tier already exists; edit that one.")
        if errors:
            raise ValidationError(errors)


class ServicePrice(models.Model):
    """The sell price of one service for one tier, per unit (as Service.cost), kept by pricing_refresh.

    `on_sale` is the margin guard: False whenever the price does not exceed the cost, no rule applies, or
    the service is not offered (vanished upstream or switched off).
    """

    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="prices")
    tier = models.ForeignKey(
        "accounts.Tier", verbose_name=_("tier"), on_delete=models.CASCADE, related_name="service_prices"
    )
    price = models.DecimalField(_("sell price"), **COST)
    on_sale = models.BooleanField(_("on sale"), default=False)
    rule = models.ForeignKey(
        MarkupRule,
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prices",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sell price")
        verbose_name_plural = _("sell prices")
        ordering = ["service", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["service", "tier"], name="service_price_one_per_tier"),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
        ]
        indexes = [models.Index(fields=["tier", "on_sale"], name="service_price_catalogue")]

    def __str__(self) -> str:
        return f"{self.service.name} · {self.tier}: {format_rupiah(self.price)}"

    @property
    def margin(self):
        return self.price - self.service.cost

    @property
    def sellable(self) -> bool:
        """On sale, and still above the service's current cost (a guard against a stale row)."""
        service = self.service
        return self.on_sale and service.is_active and service.is_enabled and self.price > service.cost


class InboxMessage(models.Model):
    """An SMS received in an SMS gateway's inbox (masking inbox.php), kept for operators.

    Unique per provider and `key`: the gateway's message id when it gives one, otherwise a hash of
    number, time and text, so fetching the same inbox again stores nothing twice."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="inbox_messages"
    )
    key = models.CharField(_("key"), max_length=80, editable=False)
    external_id = models.CharField(_("upstream id"), max_length=100, blank=True)
    number = models.CharField(_("sender"), max_length=32)
    text = models.TextField(_("message"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), auto_now_add=True)
    raw = models.JSONField(_("raw reply"), default=dict, blank=True)

    class Meta:
        verbose_name = _("incoming SMS")
        verbose_name_plural = _("SMS inbox")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "key"], name="inbox_message_once")]
        indexes = [models.Index(fields=["number"], name="inbox_message_number")]

    def __str__(self) -> str:
        return f"{self.number}: {self.text[:40]}"
