"""Inbound delivery reports from SMS gateways: /callbacks/<provider id>/<token>/."""

from __future__ import annotations

import hmac
import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from orders import services_callbacks
from orders.services_callbacks import callback_record
from providers.adapters.errors import CallbackInvalid
from providers.models import Provider
from providers.services import provider_adapter

logger = logging.getLogger(__name__)
_NO_TOKEN = "-" * 40


@csrf_exempt  # machine-to-machine; authenticated by the per-provider token in the path
@require_http_methods(["GET", "POST"])
def provider_callback(request: HttpRequest, provider_id: int, token: str) -> HttpResponse:
    provider = Provider.objects.filter(pk=provider_id).first()
    expected = provider.callback_token if provider else _NO_TOKEN
    # Compare even when the provider does not exist, so timing does not tell which ids exist.
    if not hmac.compare_digest(token.encode(), expected.encode()) or provider is None:
        raise Http404
    try:
        reports = provider_adapter(provider).parse_callback(
            request.method or "GET", request.GET.dict(), request.body, request.content_type or ""
        )
    except CallbackInvalid as exc:
        logger.warning("callback for %s refused: %s", provider, exc)
        return HttpResponseBadRequest(f"invalid callback: {exc}", content_type="text/plain")
    callback_record(provider, reports)  # stored once (idempotent); the worker applies it
    services_callbacks.callbacks_requested()
    return HttpResponse("OK", content_type="text/plain")
