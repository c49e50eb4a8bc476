"""Bad input from outside: every malformed request the outside attack found answers in the protocol's own
form with a 4xx-style reply, writes nothing and logs no traceback; the throttle cannot be turned against
honest clients; the client address comes from X-Forwarded-For only through a trusted proxy."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from accounts.selectors import balance_of, ledger_violations
from orders.models import CallbackEvent, Order
from providers.services import provider_callback_url
from tests.api.conftest import START

pytestmark = pytest.mark.django_db

INCORRECT_REQUEST = {"error": "Incorrect request"}
RAJASMS_JSON_POST_ERROR = {"sending_respon": [{"globalstatus": 20, "globalstatustext": "Json Post Error"}]}


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield caplog
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


def assert_nothing_written(api_user) -> None:
    assert not Order.objects.exists()
    assert balance_of(api_user.user) == START and ledger_violations() == []


# --- bodies the parsers refuse --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v2", (200, INCORRECT_REQUEST)),
        ("/api/json.php", (200, {"status": False, "data": {"msg": "Permintaan tidak sesuai"}})),
        ("/api/prepaid", (400, {"code": 400, "status": False, "message": "Invalid request.", "data": None})),
    ],
)
def test_multipart_without_a_boundary(client: Client, api_user, path, expected, no_tracebacks):
    response = client.generic("POST", path, b"key=x", content_type="multipart/form-data")
    assert (response.status_code, response.json()) == expected
    assert_nothing_written(api_user)


@pytest.mark.parametrize("action", ["send", "balance"])
def test_json_nested_100000_deep(api, api_user, action, no_tracebacks):
    response = api.raja("reguler", None, action=action, raw=b"[" * 100_000)
    key = "sending_respon" if action == "send" else "balance_respon"
    assert (response.status_code, response.json()) == (
        200,
        {key: [{"globalstatus": 20, "globalstatustext": "Json Post Error"}]},
    )


def test_nested_callback_body_is_a_400(client: Client, raja_provider, no_tracebacks):
    path = "/" + provider_callback_url(raja_provider).split("://", 1)[1].split("/", 1)[1]
    assert client.post(path, b"[" * 100_000, content_type="application/json").status_code == 400
    assert not CallbackEvent.objects.exists()


# --- numbers are ASCII digits --------------------------------------------------------------------------
@pytest.mark.parametrize("quantity", ["²²²", "\u0661\u0660\u0660", "\uff11\uff10\uff10", "1e3", " ", "100.0"])
def test_quantity_in_other_digits_is_not_a_number(api, api_user, catalogue, upstream, quantity, no_tracebacks):
    service = str(catalogue.smm.pk)
    reply = api.smm(api_user.key, action="add", service=service, link="https://x.com/a", quantity=quantity)
    assert (reply.status_code, reply.json()) == (200, INCORRECT_REQUEST)
    assert_nothing_written(api_user)


@pytest.mark.parametrize("field", ["orders", "refills"])
def test_id_lists_in_other_digits(api, api_user, catalogue, field, no_tracebacks):
    action = {"orders": "status", "refills": "refill_status"}[field]
    reply = api.smm(api_user.key, action=action, **{field: "²"})
    assert reply.status_code == 200 and "error" in json.dumps(reply.json())


@pytest.mark.parametrize("limit", ["²", "\u0661", "\uff11"])  # superscript, Arabic-Indic, full-width
def test_osimesa_limit_in_other_digits(api, api_user, limit, no_tracebacks):
    reply = api.osimesa(api_user, type="status", limit=limit)
    assert (reply.status_code, reply.json()["message"]) == (400, "The limit must be between 1 and 15.")


# --- unknown paths under a protocol's prefix ------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("post", "/sms/api_sms_premium_send_json.php", RAJASMS_JSON_POST_ERROR),
        ("get", "/sms/", RAJASMS_JSON_POST_ERROR),
        ("post", "/api/v2/add", INCORRECT_REQUEST),
        ("post", "/api/prepaid/order", {"code": 404, "status": False, "message": "Not found.", "data": None}),
        ("get", "/api/json2.php", {"status": False, "data": {"msg": "Permintaan tidak sesuai"}}),
        ("post", "/api/", {"status": False, "data": {"msg": "Permintaan tidak sesuai"}}),
    ],
)
def test_unknown_paths_answer_in_the_protocols_form(client: Client, method, path, expected, no_tracebacks):
    response = getattr(client, method)(path)
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert response.json() == expected


# --- NUL and other unstorable text, in every text field -------------------------------------------------
NUL = "a\x00b"


def test_nul_bytes_in_every_field_of_every_protocol(api, api_user, catalogue, upstream, no_tracebacks):
    smm, otp, prepaid = str(catalogue.smm.pk), str(catalogue.otp.pk), str(catalogue.prepaid.pk)
    key = api_user.key
    replies = [
        api.virtusim(NUL, action="services"),
        api.virtusim(key + "\x00", action="services"),
        api.virtusim(key, action=NUL),
        api.virtusim(key, action="order", service=NUL),
        api.virtusim(key, action="order", service=otp, operator=NUL),
        api.virtusim(key, action="status", id=NUL),
        api.virtusim(key, action="set_status", id=NUL, status="2"),
        api.smm(NUL, action="balance"),
        api.smm(key, action="add", service=smm, link="https://x.com/" + NUL, quantity="100"),
        api.smm(key, action="add", service=NUL, link="https://x.com/a", quantity="100"),
        api.smm(key, action="add", service=smm, link="https://x.com/a", quantity=NUL),
        api.smm(key, action="status", order=NUL),
        api.smm(key, action="status", orders=NUL),
        api.smm(key, action="cancel", orders=NUL),
        api.smm(key, action="refill", order=NUL),
        api.osimesa(api_user, type="order", service=prepaid, data_no="0812" + NUL + "34567890"),
        api.osimesa(api_user, type="order", service=NUL, data_no="081234567890"),
        api.osimesa(api_user, type="status", ref_id=NUL),
        api.osimesa(api_user, sign=NUL, type="status"),
        api.raja("reguler", {"apikey": NUL, "datapacket": [{"number": "081234567890", "message": "x"}]}),
        api.raja("reguler", {"apikey": key, "callbackurl": "https://x.com/" + NUL, "datapacket": []}),
        api.raja("reguler", {"apikey": key, "datapacket": [{"number": "081234567890", "message": NUL}]}),
        api.raja("reguler", {"apikey": key, "datapacket": [{"number": NUL, "message": "x"}]}),
        api.raja(
            "reguler",
            {"apikey": key, "datapacket": [{"number": "081234567890", "message": "x", "sendingdatetime": NUL}]},
        ),
    ]
    assert [r.status_code for r in replies if r.status_code >= 500] == []
    # The last request has no bad field once the unreadable schedule is read as "now" (the vendor's rule).
    assert Order.objects.count() == 1 and ledger_violations() == []


# --- the throttle and the client's address --------------------------------------------------------------
def test_wrong_keys_cannot_lock_out_a_valid_key_from_the_same_address(api, api_user, settings):
    settings.API_AUTH_FAILURE_LIMIT = 30
    for attempt in range(40):
        api.smm(f"attacker-{attempt:024d}", action="balance")
    assert api.smm("attacker-one-more-000000000", action="balance").status_code == 429
    assert api.smm(api_user.key, action="balance").status_code == 200
    assert api.raja("reguler", {"apikey": api_user.key}, action="balance").status_code == 200


def test_behind_the_trusted_proxy_each_client_is_counted_apart(api_user, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    via_proxy = Client(REMOTE_ADDR="10.0.0.5")

    def wrong(address: str) -> int:
        return via_proxy.post(
            "/api/v2", {"key": "w" * 32, "action": "balance"}, HTTP_X_FORWARDED_FOR=address
        ).status_code

    assert [wrong("203.0.113.7") for _ in range(4)] == [200, 200, 200, 429]  # the attacker, behind the proxy
    assert wrong("198.51.100.9") == 200  # another client of the same proxy is not the attacker


def test_a_forwarded_header_from_anyone_else_is_ignored(api_user, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    direct = Client(REMOTE_ADDR="203.0.113.7")
    codes = [
        direct.post(
            "/api/v2", {"key": "w" * 32, "action": "balance"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]  # a new made-up address each time does not reset the count


def test_client_address_rules(rf, settings):
    from accounts.network import client_address

    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert client_address(rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.7"
    via = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9, 10.0.0.9")
    assert client_address(via) == "198.51.100.9"  # the last hop the proxies did not add
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="junk")) == "10.0.0.5"
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.5")) == "10.0.0.5"
    settings.TRUSTED_PROXIES = []
    assert client_address(via) == "10.0.0.5"
