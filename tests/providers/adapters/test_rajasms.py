from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import responses
from responses import matchers

from providers.adapters.errors import CallbackInvalid, ProviderAccountError, ProviderBadResponse, ProviderRejected
from providers.adapters.rajasms import BalanceExpired, IpNotRegistered, RajaSmsAdapter, parse_expired
from providers.adapters.types import Capability, DeliveryState, OrderRequest, ProductKind, Status

from .conftest import API_KEY, CALLBACK_URL, URLS, fixture_json, fixture_text, make_adapter

KIND = "rajasms"
ROOT = URLS["rajasms"]
SEND = f"{ROOT}/sms/api_sms_masking_send_json.php"
TWO = ("6281234567890", "6281298765432")


def sms(*numbers: str, route: str = "masking", **extra) -> OrderRequest:
    return OrderRequest(
        kind=ProductKind.SMS, service_id=route, message="Kode OTP anda 4821", recipients=numbers, **extra
    )


@pytest.fixture
def adapter() -> RajaSmsAdapter:
    return make_adapter(KIND)


def reply(mocked: responses.RequestsMock, name: str, url: str = SEND, **kwargs) -> None:
    mocked.post(url, json=fixture_json(KIND, name), **kwargs)


# --- send ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ["reguler", "masking", "otp"])
def test_send_posts_the_json_packets_to_the_route(adapter, mocked, route):
    body = {
        "apikey": API_KEY,
        "callbackurl": CALLBACK_URL,
        "datapacket": [{"number": n, "message": "Kode OTP anda 4821", "sendingdatetime": ""} for n in TWO],
    }
    url = f"{ROOT}/sms/api_sms_{route}_send_json.php"
    reply(mocked, "send_ok.json", url=url, match=[matchers.json_params_matcher(body)])

    placed = adapter.place_order(sms(*TWO, route=route))

    assert (placed.external_id, placed.status, placed.raw_status) == ("12345788", Status.PROCESSING, "Success")
    assert [(r.number, r.external_id, r.state, r.code) for r in placed.recipients] == [
        ("6281234567890", "12345788", DeliveryState.QUEUED, "10"),
        ("6281298765432", "9775454545", DeliveryState.QUEUED, "10"),
    ]
    assert placed.charge == Decimal(140)
    assert placed.recipients[0].price == Decimal(70)


def test_each_packet_carries_its_own_text(adapter, mocked):
    """A bulk API send: one request, each number with the text it was given."""
    body = {
        "apikey": API_KEY,
        "callbackurl": CALLBACK_URL,
        "datapacket": [
            {"number": TWO[0], "message": "satu", "sendingdatetime": ""},
            {"number": TWO[1], "message": "dua", "sendingdatetime": ""},
        ],
    }
    reply(mocked, "send_ok.json", match=[matchers.json_params_matcher(body)])
    placed = adapter.place_order(sms(*TWO, messages=("satu", "dua")))
    assert [r.external_id for r in placed.recipients] == ["12345788", "9775454545"]
    assert len(mocked.calls) == 1


def test_schedule_is_sent_in_jakarta_time(adapter, mocked):
    reply(mocked, "send_ok.json")
    when = datetime(2025, 3, 1, 3, 30, tzinfo=UTC)

    adapter.place_order(sms(*TWO, schedule=when))

    packets = json.loads(mocked.calls[0].request.body)["datapacket"]
    assert {p["sendingdatetime"] for p in packets} == {"2025-03-01 10:30:00"}


def test_schedule_from_another_zone(adapter, mocked):
    reply(mocked, "send_ok.json")
    when = datetime(2025, 3, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))

    adapter.place_order(sms(*TWO, schedule=when))

    assert json.loads(mocked.calls[0].request.body)["datapacket"][0]["sendingdatetime"] == "2025-03-02 11:00:00"


def test_naive_schedule_is_a_programming_error(adapter, mocked):
    with pytest.raises(ValueError, match="timezone-aware"):
        adapter.place_order(sms(*TWO, schedule=datetime(2025, 3, 1, 10, 0)))
    assert len(mocked.calls) == 0


def test_per_packet_results(adapter, mocked):
    reply(mocked, "send_mixed.json")
    numbers = ("62811", "6281234567890", "6281298765432", "6281311122233", "6281311122244")

    placed = adapter.place_order(sms(*numbers))

    assert placed.external_id == "12345790"
    assert placed.status is Status.PROCESSING
    assert placed.charge == Decimal(70)
    assert [(r.state, r.code, r.text, r.external_id) for r in placed.recipients] == [
        (DeliveryState.REJECTED, "60", "Invalid Number", ""),
        (DeliveryState.QUEUED, "10", "success", "12345790"),
        (DeliveryState.REJECTED, "70", "Invalid Message", ""),
        (DeliveryState.REJECTED, "80", "Minimum Balance", ""),
        (DeliveryState.REJECTED, "90", "System Error", ""),
    ]


def test_every_packet_rejected_is_a_rejection(adapter, mocked):
    reply(mocked, "send_all_rejected.json")

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(sms("62811", "6281234567890"))

    assert caught.value.message == ("every packet was rejected: Invalid Number (60), Minimum Balance (80)")


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (20, "Json Post Error"),
        (30, "ApiKey not register"),
        (55, "Maximum Data"),
    ],
)
def test_global_errors_are_rejections(adapter, mocked, code, text):
    reply(mocked, f"send_global_{code}.json")

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(sms(*TWO))

    assert caught.value.message == text
    assert not isinstance(caught.value, ProviderAccountError)


@pytest.mark.parametrize(
    ("code", "error", "text"),
    [
        (40, IpNotRegistered, "Ip address not register (globalstatus 40): register this server's IP address"),
        (50, BalanceExpired, "Expired Balance (globalstatus 50): the gateway balance has expired"),
    ],
)
def test_account_problems_are_their_own_rejections(adapter, mocked, code, error, text):
    """40 and 50 are the panel's own account's problems: distinct errors (still refusals: nothing was sent,
    so the order moves to the next route or is refunded) whose message tells the operator what to do."""
    reply(mocked, f"send_global_{code}.json")

    with pytest.raises(error) as caught:
        adapter.place_order(sms(*TWO))

    assert isinstance(caught.value, ProviderAccountError) and isinstance(caught.value, ProviderRejected)
    assert caught.value.message.startswith(text)


def test_a_reply_short_of_packets_leaves_the_rest_unknown(adapter, mocked):
    reply(mocked, "send_short.json")

    placed = adapter.place_order(sms(*TWO))

    assert [(r.state, r.code, r.external_id) for r in placed.recipients] == [
        (DeliveryState.QUEUED, "10", "12345800"),
        (DeliveryState.SENT, "unknown", ""),
    ]


def test_packet_with_wrong_types_names_the_field(adapter, mocked):
    reply(mocked, "send_packet_wrong_types.json")

    with pytest.raises(ProviderBadResponse) as caught:
        adapter.place_order(sms("6281234567890"))

    assert caught.value.message == (
        "sending_respon[0].datapacket[0].packet.sendingstatus: expected a number, got 'abc'"
    )


def test_more_than_1000_packets_fail_before_any_http(adapter, mocked):
    numbers = tuple(f"62812{n:08d}" for n in range(1001))

    with pytest.raises(ValueError, match="at most 1000 packets"):
        adapter.place_order(sms(*numbers))
    assert len(mocked.calls) == 0


def test_exactly_1000_packets_are_one_request(adapter, mocked):
    reply(mocked, "send_ok.json")
    numbers = tuple(f"62812{n:08d}" for n in range(1000))

    adapter.place_order(sms(*numbers))

    assert len(json.loads(mocked.calls[0].request.body)["datapacket"]) == 1000


@pytest.mark.parametrize("route", ["premium", ""])
def test_unknown_route_is_a_programming_error(adapter, mocked, route):
    with pytest.raises(ValueError, match="route must be one of"):
        adapter.place_order(sms(*TWO, route=route))


def test_no_recipients_is_a_programming_error(adapter, mocked):
    with pytest.raises(ValueError, match="at least one recipient"):
        adapter.place_order(sms())


# --- balance -------------------------------------------------------------------------------------
def test_balance_defaults_to_the_masking_route(adapter, mocked):
    url = f"{ROOT}/sms/api_sms_masking_balance_json.php"
    reply(mocked, "balance.json", url=url, match=[matchers.json_params_matcher({"apikey": API_KEY})])

    balance = adapter.fetch_balance()

    assert (balance.amount, balance.expires, balance.currency) == (Decimal(125000), "2026-12-31", "IDR")
    assert balance.expires_on == date(2026, 12, 31)


def test_balance_expiry_with_a_time_is_read_as_its_day(adapter, mocked):
    reply(mocked, "balance_expired_datetime.json", url=f"{ROOT}/sms/api_sms_masking_balance_json.php")

    balance = adapter.fetch_balance()

    assert (balance.amount, balance.expires, balance.expires_on) == (
        Decimal(98500),
        "2026-03-01 23:59:59",
        date(2026, 3, 1),
    )


def test_an_expiry_that_is_not_a_date_is_kept_as_text(adapter, mocked):
    reply(mocked, "balance_expired_text.json", url=f"{ROOT}/sms/api_sms_masking_balance_json.php")

    balance = adapter.fetch_balance()

    assert (balance.amount, balance.expires, balance.expires_on) == (Decimal(125000), "Unlimited", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-12-31", ("2026-12-31", date(2026, 12, 31))),
        ("31-12-2026", ("31-12-2026", date(2026, 12, 31))),
        ("31/12/2026", ("31/12/2026", date(2026, 12, 31))),
        (" 2026/12/31 ", ("2026/12/31", date(2026, 12, 31))),
        ("2026-02-30", ("2026-02-30", None)),
        ("0000-00-00", ("0000-00-00", None)),
        ("", ("", None)),
        (None, ("", None)),
        (True, ("", None)),
        (20261231, ("20261231", None)),
        ("x" * 100, ("x" * 40, None)),
    ],
)
def test_parse_expired_never_raises(raw, expected):
    assert parse_expired(raw) == expected


def test_balance_ip_not_registered_is_an_account_problem(adapter, mocked):
    reply(mocked, "balance_global_40.json", url=f"{ROOT}/sms/api_sms_masking_balance_json.php")

    with pytest.raises(IpNotRegistered, match="globalstatus 40"):
        adapter.fetch_balance()


def test_balance_route_from_options(mocked):
    adapter = make_adapter(KIND, options={"route": "reguler"})
    reply(mocked, "balance.json", url=f"{ROOT}/sms/api_sms_reguler_balance_json.php")

    assert adapter.fetch_balance().amount == Decimal(125000)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (20, "Json Post Error"),
        (25, "Error Check Balance"),
        (30, "ApiKey not register"),
        (35, "Check Balance Limit"),
    ],
)
def test_balance_errors(adapter, mocked, code, text):
    reply(mocked, f"balance_global_{code}.json", url=f"{ROOT}/sms/api_sms_masking_balance_json.php")

    with pytest.raises(ProviderRejected) as caught:
        adapter.fetch_balance()

    assert caught.value.message == text


# --- callbacks -----------------------------------------------------------------------------------
def test_callback_single_object(adapter):
    body = fixture_text(KIND, "callback_single.json").encode()

    [report] = adapter.parse_callback("POST", {}, body, "application/json")

    assert (report.external_id, report.number, report.state, report.code, report.text) == (
        "12345788",
        "6281234567890",
        DeliveryState.DELIVERED,
        "3",
        "Delivered Success",
    )


def test_callback_list_maps_every_code(adapter):
    body = fixture_text(KIND, "callback_list.json").encode()

    reports = adapter.parse_callback("POST", {}, body, "application/json")

    # pending: 1, 2; delivered: 3, 10; charged but not delivered: 4, 5, 8; never sent (refunded): 6, 7, 9
    assert [(r.code, r.state) for r in reports] == [
        ("1", DeliveryState.QUEUED),
        ("2", DeliveryState.SENT),
        ("3", DeliveryState.DELIVERED),
        ("4", DeliveryState.FAILED),
        ("5", DeliveryState.FAILED),
        ("6", DeliveryState.REJECTED),
        ("7", DeliveryState.REJECTED),
        ("8", DeliveryState.FAILED),
        ("9", DeliveryState.REJECTED),
        ("10", DeliveryState.DELIVERED),
    ]
    assert reports[0].external_id == "12345701"


def test_callback_wrapped_in_status_respon(adapter):
    """Some gateway servers post `{"status_respon": [...]}` (public clients read it): the same reports."""
    body = fixture_text(KIND, "callback_wrapped.json").encode()

    reports = adapter.parse_callback("POST", {}, body, "application/json")

    assert [(r.external_id, r.code, r.state, r.text) for r in reports] == [
        ("12345706", "6", DeliveryState.REJECTED, "Saldo Minus/Expired"),
        ("12345709", "9", DeliveryState.REJECTED, "Duplicate message"),
    ]


@pytest.mark.parametrize(
    ("method", "body", "message"),
    [
        ("POST", b"sendingid=1&deliverystatus=3", "body is not JSON"),
        ("POST", b"\xff\xfe{", "body is not JSON"),
        ("POST", b"[]", "no delivery report"),
        ("GET", b"", "POSTed as JSON"),
        ("POST", b'{"number": "62812", "deliverystatus": 3}', r"report\[0\]\.sendingid: missing"),
        ("POST", b'{"sendingid": 1, "deliverystatus": 11}', "unknown code 11"),
        ("POST", b'{"sendingid": 1, "deliverystatus": "sent"}', "deliverystatus: expected a number"),
        ("POST", b'{"sendingid": 1, "deliverystatus": true}', "deliverystatus: expected a number"),
        ("POST", b'[{"sendingid": 1, "deliverystatus": 3}, "x"]', r"report\[1\]: expected an object"),
    ],
)
def test_malformed_callbacks(adapter, method, body, message):
    with pytest.raises(CallbackInvalid, match=message):
        adapter.parse_callback(method, {}, body, "application/json")


# --- shape of the adapter ------------------------------------------------------------------------
def test_sms_gateway_has_no_catalogue_and_no_status_endpoint(adapter, mocked):
    assert adapter.fetch_services() == []
    assert adapter.fetch_statuses(["12345788"]) == []
    assert adapter.effective_capabilities() == {Capability.BALANCE, Capability.CALLBACKS}
    assert len(mocked.calls) == 0
