"""What every sandbox endpoint shares: the enable guard, parameters, reply formatting."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..models import SandboxAccount

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
