"""Permissions-Policy and Referrer-Policy on every page, session lifetimes, and login redirects that never
carry an API key."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from panel import middleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/admin/login/", "/healthz", "/api/openapi.json"])
def test_policy_headers_everywhere(client: Client, path):
    response = client.get(path)
    assert response["Permissions-Policy"].startswith("camera=()")
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path",
    [
        "/pesanan/?api_key=SECRETKEY123456789&status=pending",
        "/katalog/?key=SECRETKEY123456789",
        "/admin/?apikey=SECRETKEY123456789",
        "/pesanan/?sign=SECRETKEY123456789&password=SECRETKEY123456789",
    ],
)
def test_the_login_redirect_never_carries_a_key(client: Client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "SECRETKEY" not in response["Location"]
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert next_url.startswith(path.split("?")[0])
    if "status=pending" in path:
        assert "status=pending" in next_url  # the rest of the query is kept


def test_the_check_is_real(client: Client, monkeypatch):
    monkeypatch.setattr(middleware, "SECRET_PARAMS", frozenset())  # broken on purpose
    assert "SECRETKEY" in client.get("/pesanan/?api_key=SECRETKEY123456789")["Location"]


def _signed_in(reseller) -> Client:
    client = Client()
    client.post(reverse("login"), {"username": "budi", "password": "pw-budi-Secret1"})
    assert client.get("/").status_code == 200
    return client


def _age(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] -= seconds
    session.save()


def test_idle_session_ends(reseller, settings):
    client = _signed_in(reseller)
    _age(client, middleware.SEEN, settings.SESSION_IDLE_MINUTES * 60 - 5)
    assert client.get("/").status_code == 200  # not idle long enough; this request counts as activity
    _age(client, middleware.SEEN, settings.SESSION_IDLE_MINUTES * 60 + 5)
    response = client.get("/")
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_session_lifetime_ends_even_when_active(reseller, settings):
    client = _signed_in(reseller)
    _age(client, middleware.SINCE, settings.SESSION_LIFETIME_HOURS * 3600 + 5)
    response = client.get("/")
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_last_seen_is_written_once_a_minute_at_most(reseller):
    client = _signed_in(reseller)
    seen = client.session[middleware.SEEN]
    client.get("/")
    assert client.session[middleware.SEEN] == seen
