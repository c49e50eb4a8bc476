"""What the four downstream protocols share: the endpoint wrapper (method, body size, never a 500),
authentication by API key with per-key rate limiting, reply helpers and Rupiah formatting.

Every refusal is answered in the calling protocol's own error form. A protocol module supplies one
`fail(reason)` function that turns a `Reason` into its reply; views raise `Refusal(response)` to stop.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiKey, User
from accounts.network import address_allowed, client_address
from accounts.services import apikey_authenticate

logger = logging.getLogger("orders.api")

DEFAULT_RATE_LIMIT = 120  # requests per key per window
DEFAULT_RATE_WINDOW = 60  # seconds
DEFAULT_AUTH_FAILURE_LIMIT = 30  # failed authentications per client address per window
DEFAULT_MAX_BODY = 1_048_576  # bytes: 1,000 RajaSMS packets of 480 characters fit


class Reason(StrEnum):
    AUTH = "auth"  # missing, wrong or revoked key (or a staff account)
    IP_NOT_ALLOWED = "ip_not_allowed"  # a valid key from an address outside the key's allow-list
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    METHOD = "method"
    MALFORMED = "malformed"  # missing / wrong-typed fields, unknown action
    INTERNAL = "internal"  # a bug or an outage: logged, answered without a traceback
    # Idempotency-Key (orders.api.idempotency)
    KEY_INVALID = "idempotency_key_invalid"  # longer than 255 characters, or characters outside visible ASCII
    KEY_REUSED = "idempotency_key_reused"  # the key was used for a different request in the last 24 h
    KEY_IN_FLIGHT = "idempotency_key_in_flight"  # the first request with this key has not finished yet


# HTTP status of each refusal unless the protocol says otherwise (SMM v2 and VirtuSIM answer their
# ordinary errors with 200; Osimesa puts its code in both the body and the status line).
HTTP_STATUS = {
    Reason.AUTH: 200,
    Reason.IP_NOT_ALLOWED: 403,
    Reason.RATE_LIMITED: 429,
    Reason.TOO_LARGE: 413,
    Reason.METHOD: 405,
    Reason.MALFORMED: 200,
    Reason.INTERNAL: 503,
    Reason.KEY_INVALID: 400,
    Reason.KEY_REUSED: 409,  # as the IETF draft "The Idempotency-Key HTTP Header Field" answers them
    Reason.KEY_IN_FLIGHT: 409,
}

Fail = Callable[[Reason], HttpResponse]


class Refusal(Exception):
    """Stop handling the request and answer `response` (already in the protocol's form)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_reply(data: Any, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"  # replies are per key (and VirtuSIM puts the key in the URL)
    return response


def setting(name: str, default: int) -> int:
    value = getattr(settings, name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- the endpoint wrapper ---------------------------------------------------------------------------
def api_endpoint(fail: Fail, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """csrf-exempt machine endpoint: wrong method and oversized bodies are refused in the protocol's
    form, a `Refusal` becomes its reply, and any other exception is logged and answered as INTERNAL."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    response = fail(Reason.METHOD)
                    response["Allow"] = ", ".join(methods)
                    return response
                read_body(request, fail)
                return view(request, *args, **kwargs)
            except Refusal as refusal:
                return refusal.response
            except Exception:
                logger.exception("downstream API %s %s failed", request.method, request.path)
                return fail(Reason.INTERNAL)

        endpoint.is_downstream_api = True  # type: ignore[attr-defined]  # see catalogue.self_pointing
        return csrf_exempt(endpoint)

    return decorate


def read_body(request: HttpRequest, fail: Fail) -> bytes:
    """The request body, refused above API_MAX_BODY_BYTES before it is read when the length is declared."""
    limit = setting("API_MAX_BODY_BYTES", DEFAULT_MAX_BODY)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refusal(fail(Reason.MALFORMED)) from None
    if declared > limit:
        raise Refusal(fail(Reason.TOO_LARGE))
    try:
        body = request.body
    except RequestDataTooBig:
        raise Refusal(fail(Reason.TOO_LARGE)) from None
    if len(body) > limit:
        raise Refusal(fail(Reason.TOO_LARGE))
    return body


def form_params(request: HttpRequest, fail: Fail) -> dict[str, str]:
    """Query string and form merged, the form winning (PHP's $_REQUEST), as the vendors read them."""
    try:
        return {**request.GET.dict(), **request.POST.dict()}
    except (RequestDataTooBig, TooManyFieldsSent):
        raise Refusal(fail(Reason.TOO_LARGE)) from None
    except (MultiPartParserError, UnreadablePostError, UnicodeDecodeError):  # e.g. multipart without a boundary
        logger.info("downstream API %s: unreadable form body", request.path)
        raise Refusal(fail(Reason.MALFORMED)) from None


_ASCII_WHOLE = re.compile(r"[0-9]+")


def ascii_int(raw: object, max_digits: int = 12) -> int | None:
    """A whole number written in ASCII digits only. `str.isdigit()` also accepts "²" (which int() refuses)
    and int() also reads Arabic-Indic or full-width digits: neither is a number in these protocols."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > max_digits or not _ASCII_WHOLE.fullmatch(text):
        return None
    return int(text)


# --- authentication and rate limiting ---------------------------------------------------------------
def _window() -> tuple[int, int]:
    window = max(setting("API_RATE_WINDOW", DEFAULT_RATE_WINDOW), 1)
    return window, int(time.time() // window)


def _count(key: str, window: int) -> int:
    """Add one to a counter that lives for one window; returns the new value."""
    cache.add(key, 0, timeout=window + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        return 1


def _key_digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()[:32]


def rate_limited(plain_key: str) -> bool:
    """Count one request for this key; True once it has made more than API_RATE_LIMIT in the window."""
    window, slot = _window()
    return _count(f"api:rate:{_key_digest(plain_key)}:{slot}", window) > setting("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


def _auth_failures_exceeded(request: HttpRequest) -> bool:
    _window_seconds, slot = _window()
    value = cache.get(f"api:authfail:{client_address(request)}:{slot}") or 0
    return value >= setting("API_AUTH_FAILURE_LIMIT", DEFAULT_AUTH_FAILURE_LIMIT)


def _auth_failed(request: HttpRequest) -> None:
    window, slot = _window()
    _count(f"api:authfail:{client_address(request)}:{slot}", window)


def authenticate(
    request: HttpRequest, key: object, fail: Fail, also: Callable[[User, str], bool] | None = None
) -> User:
    """The active reseller owning `key` (compared in constant time by apikey_authenticate); `also(user, key)`
    is a further check (Osimesa's signature). Staff accounts cannot use the API. Raises Refusal with AUTH or
    RATE_LIMITED.

    A valid key is limited by its own rate only (API_RATE_LIMIT): other requests' failures never refuse it,
    so nobody can lock honest clients out by sending wrong keys from their address (or, behind the proxy,
    from anywhere). Wrong keys are counted per client address (accounts.network) and, past
    API_AUTH_FAILURE_LIMIT in the window, answered RATE_LIMITED instead of AUTH: that slows down guessing
    without touching anyone who has a key. A key with an allow-list (ApiKey.allowed_ips) is refused with
    IP_NOT_ALLOWED from any other client address."""
    plain = key.strip() if isinstance(key, str) else ""
    if not plain:
        raise Refusal(fail(Reason.AUTH))
    user = apikey_authenticate(plain)
    if (
        user is None
        or user.is_staff
        or user.is_superuser
        or not user.is_active
        or (also is not None and not also(user, plain))
    ):
        limited = _auth_failures_exceeded(request)
        _auth_failed(request)
        raise Refusal(fail(Reason.RATE_LIMITED if limited else Reason.AUTH))
    # Checked before the key's rate is counted, so calls from elsewhere with a leaked key cannot use up the
    # reseller's own allowance; and not counted as failures of the address (the key is right).
    if not address_allowed(client_address(request), _allowed_ips(user)):
        raise Refusal(fail(Reason.IP_NOT_ALLOWED))
    if rate_limited(plain):
        raise Refusal(fail(Reason.RATE_LIMITED))
    return user


def _allowed_ips(user: User) -> str:
    try:
        return user.api_key.allowed_ips  # cached by apikey_authenticate's select_related: no query
    except ApiKey.DoesNotExist:
        return ""


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# --- formatting -------------------------------------------------------------------------------------
def amount_text(value: Decimal) -> str:
    """Rupiah as the vendors print them in strings: "650", "1455.50"."""
    value = Decimal(value)
    return str(value.quantize(Decimal("1"))) if value == value.to_integral_value() else f"{value:.2f}"


def amount_number(value: Decimal) -> int | float:
    """A JSON number (RajaSMS, Osimesa): an integer when whole."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def digits_id(raw: object) -> int | None:
    """A panel id sent as text ("42") or a number; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw < 2**63 else None
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 18 or not text.isascii():
        return None
    value = int(text)
    return value if value > 0 else None
