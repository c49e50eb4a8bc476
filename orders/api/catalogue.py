"""Reads the protocol endpoints share: the reseller's sellable services at their own prices, one
service by its panel id, the reseller's orders, and a throttled refresh so a polling client sees progress.

Loop guard: a provider whose address is one of this panel's own downstream endpoints (one panel
reselling another, set up against itself) is never listed and never ordered through the API, so an
order cannot travel round in a circle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import Resolver404, resolve

from accounts.models import User
from orders.models import EventCode, Order
from orders.quotes import user_tier
from orders.refresh import orders_refresh
from providers.adapters.types import ProductKind
from providers.models import Provider, Service, ServicePrice
from providers.pricing import price_for, prices_for_tier

from .common import digits_id

logger = logging.getLogger("orders.api")

# base_url is the server root (RajaSMS) or the folder holding send.php (masking HTTP)
_PROBE_PATH = {"rajasms": "/sms/api_sms_reguler_send_json.php", "masking_http": "/send.php"}
_DOWNSTREAM_KINDS = ("virtusim", "smm_v2", "osimesa", "rajasms", "masking_http")


# --- the loop guard ---------------------------------------------------------------------------------
def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def _is_downstream_path(kind: str, base_url: str) -> bool:
    path = (urlsplit(base_url).path or "/").rstrip("/") + _PROBE_PATH.get(kind, "")
    try:
        match = resolve(path or "/")
    except Resolver404:
        return False
    return bool(getattr(match.func, "is_downstream_api", False))


def self_pointing_ids(request: HttpRequest | None = None) -> set[int]:
    """Providers addressed at this panel's own downstream endpoints (by public URL or request host)."""
    origins = {_origin(settings.PANEL_PUBLIC_URL)}
    if request is not None:
        try:
            origins.add(_origin(request.build_absolute_uri("/")))
        except Exception:  # DisallowedHost and friends: the public URL still counts
            logger.debug("no request origin for the loop guard", exc_info=True)
    origins.discard(None)
    found = set()
    for pk, kind, base_url in Provider.objects.filter(kind__in=_DOWNSTREAM_KINDS).values_list("pk", "kind", "base_url"):
        if _origin(base_url) in origins and _is_downstream_path(kind, base_url):
            found.add(pk)
    return found


# --- services ---------------------------------------------------------------------------------------
def sellable(user: User, kind: ProductKind, request: HttpRequest | None = None) -> QuerySet[ServicePrice]:
    """The reseller's on-sale prices of one kind (active, enabled services of enabled providers)."""
    return (
        prices_for_tier(user_tier(user))
        .filter(service__kind=kind)
        .exclude(service__provider_id__in=self_pointing_ids(request))
    )


@dataclass(frozen=True)
class Found:
    service: Service | None
    price: Decimal | None = None
    problem: str = ""  # "" | "missing" (no such product for this reseller) | "unavailable" (not for sale now)

    @property
    def ok(self) -> bool:
        return self.service is not None and not self.problem


def find_service(user: User, kind: ProductKind, raw_id: object, request: HttpRequest | None = None) -> Found:
    """One service by its panel id, with the reseller's price."""
    pk = digits_id(raw_id)
    if pk is None:
        return Found(None, problem="missing")
    service = Service.objects.select_related("provider").filter(pk=pk, kind=kind).first()
    if service is None or service.provider_id in self_pointing_ids(request):
        return Found(None, problem="missing")
    if not (service.is_active and service.is_enabled and service.provider.enabled):
        return Found(service, problem="unavailable")
    price = price_for(service, user_tier(user))
    if price is None or not price.on_sale:
        return Found(service, problem="unavailable")
    return Found(service, price.price)


# --- orders -----------------------------------------------------------------------------------------
def own_order(user: User, raw_id: object, kind: ProductKind) -> Order | None:
    """The reseller's order of this kind; another reseller's order does not exist for them."""
    pk = digits_id(raw_id)
    if pk is None:
        return None
    return Order.objects.select_related("service", "provider").filter(pk=pk, user=user, kind=kind).first()


def refresh_if_stale(orders: Iterable[Order]) -> None:
    """Ask the upstream about the polled orders that are stale (orders.refresh.orders_refresh), so a
    client polling the API sees progress between the worker's ticks. Never raises: the reply then shows
    what is stored."""
    try:
        orders_refresh(orders, code=EventCode.REFRESH_API, stale_only=True)
    except Exception:
        logger.exception("API refresh crashed")
