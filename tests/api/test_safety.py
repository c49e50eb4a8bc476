"""Safety of the four endpoints: per-key rate limits, body size limits, internal errors answered in the
protocol's form (never a 500), the loop guard, and repeated wrong keys."""

from __future__ import annotations

import json

import pytest

from orders.api import osimesa as osimesa_api
from orders.api import smm_v2 as smm_api
from orders.api import virtusim as virtusim_api
from orders.api.catalogue import self_pointing_ids
from orders.models import Order
from providers.pricing import pricing_refresh
from providers.services import provider_save

pytestmark = pytest.mark.django_db


def calls(api, who):
    """One harmless authenticated call per protocol (a callable each)."""
    return {
        "virtusim": lambda: api.virtusim(who.key, action="services"),
        "smm_v2": lambda: api.smm(who.key, action="balance"),
        "osimesa": lambda: api.osimesa(who, type="status"),
        "rajasms": lambda: api.raja("reguler", {"apikey": who.key}, action="balance"),
    }


RATE_LIMITED = {
    "virtusim": {"status": False, "data": {"msg": "Terlalu banyak permintaan, coba lagi sebentar lagi"}},
    "smm_v2": {"error": "Too many requests, slow down"},
    "osimesa": {"code": 429, "status": False, "message": "Too many requests, slow down.", "data": None},
    "rajasms": {"balance_respon": [{"globalstatus": 35, "globalstatustext": "Check Balance Limit"}]},
}


@pytest.mark.parametrize("protocol", list(RATE_LIMITED))
def test_rate_limit_per_key(api, api_user, other_user, catalogue, settings, protocol):
    settings.API_RATE_LIMIT = 3
    call = calls(api, api_user)[protocol]
    assert [call().status_code for _ in range(3)] == [200, 200, 200]
    limited = call()
    assert limited.status_code == 429 and limited.json() == RATE_LIMITED[protocol]
    assert calls(api, other_user)[protocol]().status_code == 200  # another key has its own budget


def test_rate_limit_is_shared_across_protocols_of_one_key(api, api_user, catalogue, settings):
    settings.API_RATE_LIMIT = 4
    for call in calls(api, api_user).values():
        assert call().status_code == 200
    assert api.smm(api_user.key, action="balance").status_code == 429


def test_rate_limit_window_passes(api, api_user, settings, monkeypatch):
    import orders.api.common as common

    settings.API_RATE_LIMIT = 1
    minute = {"now": 16}
    monkeypatch.setattr(common, "_window", lambda: (60, minute["now"]))
    assert api.smm(api_user.key, action="balance").status_code == 200
    assert api.smm(api_user.key, action="balance").status_code == 429
    minute["now"] += 1
    assert api.smm(api_user.key, action="balance").status_code == 200  # the next minute


def test_send_rate_limit_in_rajasms_form(api, api_user, catalogue, upstream, settings):
    settings.API_RATE_LIMIT = 0
    response = api.raja("reguler", {"apikey": api_user.key, "datapacket": [{"number": "0812", "message": "x"}]})
    assert response.status_code == 429
    assert response.json() == {"sending_respon": [{"globalstatus": 35, "globalstatustext": "Request Limit"}]}


def test_repeated_wrong_keys_from_one_address_are_slowed_down(api, api_user, settings):
    settings.API_AUTH_FAILURE_LIMIT = 5
    for attempt in range(5):
        assert api.smm(f"wrong-key-{attempt:020d}", action="balance").json() == {"error": "Invalid API key"}
    assert api.smm("wrong-key-again-000000000", action="balance").status_code == 429
    # ... but a valid key from the same address is never refused for other requests' failures
    assert api.smm(api_user.key, action="balance").status_code == 200


TOO_LARGE = {
    "virtusim": (413, {"status": False, "data": {"msg": "Permintaan tidak sesuai"}}),
    "smm_v2": (413, {"error": "Request too large"}),
    "osimesa": (413, {"code": 413, "status": False, "message": "Request too large.", "data": None}),
    "rajasms": (413, {"sending_respon": [{"globalstatus": 55, "globalstatustext": "Maximum Data"}]}),
}


@pytest.mark.parametrize("protocol", list(TOO_LARGE))
def test_bodies_over_a_megabyte_are_refused(api, api_user, catalogue, upstream, protocol):
    filler = "x" * 1_100_000
    if protocol == "rajasms":
        response = api.raja("reguler", {"apikey": api_user.key, "datapacket": [{"number": "0812", "message": filler}]})
    else:
        path = {"virtusim": "/api/json.php", "smm_v2": "/api/v2", "osimesa": "/api/prepaid"}[protocol]
        response = api.client.post(path, {"key": api_user.key, "api_key": api_user.key, "action": "x", "pad": filler})
    status, body = TOO_LARGE[protocol]
    assert (response.status_code, response.json()) == (status, body)
    assert not Order.objects.exists()


def test_too_many_form_fields_are_refused(api, api_user):
    form = {f"f{i}": "1" for i in range(1500)}
    response = api.client.post("/api/v2", {"key": api_user.key, "action": "balance", **form})
    assert response.status_code == 413 and response.json() == {"error": "Request too large"}


INTERNAL = {
    "virtusim": (
        virtusim_api,
        "ACTIONS",
        "services",
        {"status": False, "data": {"msg": "Terjadi kesalahan sistem, coba lagi"}},
    ),
    "smm_v2": (smm_api, "ACTIONS", "balance", {"error": "Internal error, try again later"}),
    "osimesa": (
        osimesa_api,
        "TYPES",
        "status",
        {"code": 503, "status": False, "message": "Service temporarily unavailable.", "data": None},
    ),
}


@pytest.mark.parametrize("protocol", list(INTERNAL))
def test_a_crash_is_answered_in_the_protocols_form(api, api_user, monkeypatch, protocol, caplog):
    module, table, action, body = INTERNAL[protocol]

    def boom(*args):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(getattr(module, table), action, boom)
    response = calls(api, api_user)[protocol]()
    assert response.status_code == 503 and response.json() == body
    assert "kaboom" not in response.content.decode()
    assert any("downstream API" in r.getMessage() for r in caplog.records)


def test_a_crash_in_rajasms_send_and_balance(api, api_user, catalogue, monkeypatch):
    import orders.api.rajasms as raja

    monkeypatch.setattr(raja, "balance_of", lambda user: 1 / 0)
    response = api.raja("reguler", {"apikey": api_user.key}, action="balance")
    assert response.status_code == 503
    assert response.json() == {"balance_respon": [{"globalstatus": 25, "globalstatustext": "Error Check Balance"}]}
    monkeypatch.setattr(raja, "_route_usable", lambda request, route: 1 / 0)
    response = api.raja("reguler", {"apikey": api_user.key, "datapacket": [{"number": "081234567890", "message": "x"}]})
    assert response.status_code == 503
    assert response.json() == {"sending_respon": [{"globalstatus": 90, "globalstatustext": "System Error"}]}


def test_csrf_is_not_required(api, api_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/api/v2", {"key": api_user.key, "action": "balance"}).status_code == 200
    body = json.dumps({"apikey": api_user.key})
    assert strict.post("/sms/api_sms_otp_balance_json.php", body, content_type="application/json").status_code == 200


# --- loop guard -----------------------------------------------------------------------------------------
def test_providers_pointing_back_at_this_panel_are_neither_listed_nor_ordered(
    api, api_user, catalogue, upstream, settings
):
    settings.PANEL_PUBLIC_URL = "https://panel.example"
    looped, _ = provider_save(name="Me", kind="smm_v2", base_url="https://panel.example/api/v2", api_key="k" * 20)
    raja_loop, _ = provider_save(name="Me SMS", kind="rajasms", base_url="https://panel.example/", api_key="k" * 20)
    sandbox_like, _ = provider_save(
        name="Sandbox here", kind="smm_v2", base_url="https://panel.example/sandbox/smm_v2/api", api_key="k" * 20
    )
    elsewhere, _ = provider_save(name="Other", kind="smm_v2", base_url="https://other.example/api/v2", api_key="k" * 20)
    assert self_pointing_ids() == {looped.pk, raja_loop.pk}

    from decimal import Decimal

    from providers.adapters.types import ProductKind, ServiceInfo
    from providers.sync import catalogue_apply

    item = ServiceInfo("7", "Loop", "Loop", ProductKind.SMM, Decimal("1000"), min_qty=10, max_qty=100)
    for provider in (looped, sandbox_like):
        catalogue_apply(provider, [item])
    pricing_refresh()
    loop_service = looped.services.get()
    listed = {item["service"] for item in api.smm(api_user.key, action="services").json()}
    assert str(loop_service.pk) not in listed and str(sandbox_like.services.get().pk) in listed
    reply = api.smm(api_user.key, action="add", service=str(loop_service.pk), link="https://x.com/a", quantity="10")
    assert reply.json() == {"error": "Incorrect service ID"}
    # SMS: a route of the type pointing back here stops the send instead of looping
    reply = api.packets(
        api.raja("reguler", {"apikey": api_user.key, "datapacket": [{"number": "081234567890", "message": "x"}]})
    )
    assert reply[0]["sendingstatus"] == 90 and not Order.objects.exists()
    assert elsewhere.pk not in self_pointing_ids()


def test_request_host_counts_for_the_loop_guard(api, api_user, catalogue, upstream, settings):
    settings.PANEL_PUBLIC_URL = "https://public.example"
    looped, _ = provider_save(name="Me", kind="virtusim", base_url="http://localhost/api/json.php", api_key="k" * 20)
    assert looped.pk not in self_pointing_ids()
    from django.test import RequestFactory

    assert looped.pk in self_pointing_ids(RequestFactory().get("/api/json.php", HTTP_HOST="localhost"))
    assert looped.pk not in self_pointing_ids(RequestFactory().get("/api/json.php", HTTP_HOST="evil.example"))


def test_replies_are_not_cached(api, api_user, catalogue):
    for call in calls(api, api_user).values():
        assert call()["Cache-Control"] == "no-store"
    assert api.virtusim("wrong-key-0000000000000000", action="services")["Cache-Control"] == "no-store"
