"""Orders and what arrives about them. (The Order model itself comes with the orders issue.)"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from providers.models import Provider


class CallbackEvent(models.Model):
    """One delivery report pushed by an upstream, recorded before anything else so none is lost.

    Unique per (provider, upstream id, code): a callback delivered twice is stored once.
    """

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="callback_events")
    external_id = models.CharField(_("upstream id"), max_length=100)
    number = models.CharField(_("number"), max_length=32, blank=True)
    state = models.CharField(_("state"), max_length=12)
    code = models.CharField(_("code"), max_length=20)
    text = models.CharField(_("text"), max_length=200, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback event")
        verbose_name_plural = _("callback events")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "external_id", "code"], name="callback_event_once")]
        indexes = [models.Index(fields=["applied_at"], name="callback_unapplied")]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.external_id} {self.state}"
