"""Helpers shared by the reseller pages of every app (accounts, orders, the dashboard in panel)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _


def reseller_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in resellers only: operators (staff) are sent to the admin, where their work is."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_staff:
            messages.info(request, _("Operators work in the admin; the reseller pages are for resellers."))
            return redirect("admin:index")
        return view(request, *args, **kwargs)

    return wrapped


def optional_url(name: str, **query: Any) -> str | None:
    """The URL of `name` with a query string, or None while that page does not exist (yet)."""
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def month_range() -> tuple[str, str]:
    """First day of this month and today, in WIB (settings.TIME_ZONE), as YYYY-MM-DD."""
    today = timezone.localdate()
    return today.replace(day=1).isoformat(), today.isoformat()


def cursor(value: str | None) -> int | None:
    """A keyset cursor (?before= / ?after=): up to 18 ASCII digits, or None."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
