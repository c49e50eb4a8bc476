"""What every simulated vendor shares: the enable guard, parameters, reply formatting, Indonesian numbers and
SMS segments, cutoff windows, and the stable hashing that makes generated catalogues deterministic."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from datetime import time
from decimal import Decimal
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import SandboxAccount

View = Callable[..., HttpResponse]


def sandbox_endpoint(view: View) -> View:
    """csrf-exempt machine API, 404 unless DEBUG or SANDBOX_ENABLED (read per request)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (settings.DEBUG or getattr(settings, "SANDBOX_ENABLED", False)):
            raise Http404("The sandbox is disabled.")
        return view(request, *args, **kwargs)

    return csrf_exempt(guarded)


def params(request: HttpRequest) -> dict[str, str]:
    """Query string and form merged (form wins), as PHP's $_REQUEST would."""
    return {**request.GET.dict(), **request.POST.dict()}


def account_by_key(kind: str, api_key: str) -> SandboxAccount | None:
    if not api_key:
        return None
    return SandboxAccount.objects.filter(kind=kind, api_key=api_key).first()


def amount(value: Decimal) -> str:
    """Rupiah as the vendors print them in strings: "650", "1455.50"."""
    return str(value.quantize(Decimal("1"))) if value == value.to_integral_value() else f"{value:.2f}"


def number(value: Decimal) -> int | float:
    """A JSON number for vendors that send numbers (RajaSMS, Osimesa)."""
    return int(value) if value == value.to_integral_value() else float(value)


def json_reply(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def text_reply(body: str, status: int = 200, content_type: str = "text/html; charset=UTF-8") -> HttpResponse:
    """Plain PHP-style replies (masking_http): PHP's default content type is text/html."""
    return HttpResponse(body, status=status, content_type=content_type)


# --- rules every vendor uses (docs/upstream-contract.md, "Sandbox behaviour") --------------------
WIB = ZoneInfo("Asia/Jakarta")
_MSISDN = re.compile(r"^628\d{7,11}$")


def normalize_msisdn(raw: str) -> str | None:
    """6281xx, 081xx or +6281xx -> 6281xx; None when it is not an Indonesian mobile number."""
    number = re.sub(r"[\s\-.()]", "", raw or "")
    if number.startswith("+"):
        number = number[1:]
    if number.startswith("08"):
        number = "62" + number[1:]
    return number if _MSISDN.match(number) else None


def sms_segments(message: str) -> int:
    """GSM-style count: 160 characters fit one SMS, longer ones are billed per 153."""
    return 1 if len(message) <= 160 else math.ceil(len(message) / 153)


def in_cutoff(start: str, end: str, at: time) -> bool:
    """Inside the daily window [start, end) (WIB); the window may cross midnight; start == end: none."""
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    if begin == finish:
        return False
    if begin < finish:
        return begin <= at < finish
    return at >= begin or at < finish


# --- generated catalogues: the same size always yields the same items -------------------------
def stable_hash(*parts: object) -> int:
    """A stable number from the parts (Python's hash() is salted per process)."""
    return int(hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)  # noqa: S324


def catalogue_size(size: int, default: int) -> int:
    """The account's catalogue size, or the vendor's default size when it is 0."""
    return size if size > 0 else default


def find(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any] | None:
    return next((item for item in items if item[key] == value), None)
