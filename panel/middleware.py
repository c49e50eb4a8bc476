"""Site-wide middleware: the interface language, and response hardening (the Permissions-Policy header,
session lifetimes, login redirects that never carry a key).

- Indonesian first: the language is the one the user chose with the language switch (Django's
  `set_language` stores it in the language cookie) or LANGUAGE_CODE (Indonesian). The browser's
  Accept-Language is not consulted: a reseller on an en-US phone sees the Indonesian panel until they
  switch, and the switch is remembered.

- `Permissions-Policy`: the panel uses no camera, microphone, location, payment or USB API; say so, so
  an injected frame or script cannot ask for them.
- Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_LIFETIME_HOURS after login,
  whichever comes first. The last-seen time is written at most once a minute (not a write per request).
- A redirect to a login page copies the page asked for into `next=`; a VirtuSIM-style client that opened
  a web page with `?api_key=...` would see its key travel on into the login URL, the browser history and
  the logs. Such parameters are dropped from `next`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()"
)
SECRET_PARAMS = frozenset({"api_key", "key", "apikey", "sign", "password", "token"})
SEEN, SINCE = "_seen", "_since"
TOUCH_EVERY = 60  # seconds between two writes of the last-seen time


def _without_secrets(url: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _clean_login_redirect(response: HttpResponse) -> None:
    location = response.get("Location", "")
    if "next=" not in location:
        return
    parts = urlsplit(location)
    logins = {resolve_url(settings.LOGIN_URL), resolve_url("admin:login")}
    if parts.path not in logins:
        return
    query = [(k, _without_secrets(v) if k == "next" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    response["Location"] = urlunsplit(parts._replace(query=urlencode(query)))


class LanguageMiddleware:
    """In place of Django's LocaleMiddleware: the chosen language (cookie) or LANGUAGE_CODE, never the
    browser's Accept-Language (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def chosen_language(request: HttpRequest) -> str:
    """The language cookie's value when it names a language of LANGUAGES, else LANGUAGE_CODE."""
    wanted = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    try:
        return translation.get_supported_language_variant(wanted) if wanted else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE


class HardeningMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._expire_session(request)
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.status_code in (301, 302, 303, 307, 308):
            _clean_login_redirect(response)
        return response

    @staticmethod
    def _expire_session(request: HttpRequest) -> None:
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:  # nobody signed in (no user is loaded to tell)
            return
        now = int(time.time())
        since, seen = session.get(SINCE), session.get(SEEN)
        idle = settings.SESSION_IDLE_MINUTES * 60
        lifetime = settings.SESSION_LIFETIME_HOURS * 3600
        if (seen is not None and now - seen > idle) or (since is not None and now - since > lifetime):
            logout(request)  # the page then asks for a login as for anyone signed out
            return
        if since is None:
            session[SINCE] = now
        if seen is None or now - seen >= TOUCH_EVERY:
            session[SEEN] = now
