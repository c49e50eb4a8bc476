from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from providers.adapters.errors import (
    CallbackInvalid,
    ProviderBadResponse,
    ProviderNotSupported,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.adapters.masking_http import MaskingHttpAdapter, parse_amount
from providers.adapters.types import Capability, DeliveryState, OrderRequest, ProductKind, Status

from .conftest import PASSWORD, URLS, assert_no_secret, fixture_json, fixture_text, form, make_adapter, query

KIND = "masking_http"
BASE = URLS["masking_http"]
SEND = f"{BASE}/send.php"
CREDENTIALS = {"username": "panelku", "password": PASSWORD}


def sms(*numbers: str, **extra) -> OrderRequest:
    return OrderRequest(kind=ProductKind.SMS, service_id="masking", message="Halo 4821", recipients=numbers, **extra)


@pytest.fixture
def adapter() -> MaskingHttpAdapter:
    return make_adapter(KIND)


def text(mocked: responses.RequestsMock, url: str, name: str, method: str = "GET", **kwargs) -> None:
    mocked.add(method, url, body=fixture_text(KIND, name), content_type="text/html; charset=UTF-8", **kwargs)


# --- send ----------------------------------------------------------------------------------------
def test_send_get_with_credentials_number_and_message(adapter, mocked):
    params = {**CREDENTIALS, "hp": "6281234567890", "message": "Halo 4821"}
    text(mocked, SEND, "send_ok.txt", match=[matchers.query_param_matcher(params)])

    placed = adapter.place_order(sms("6281234567890"))

    assert (placed.external_id, placed.status) == ("18319370", Status.PROCESSING)
    assert [(r.number, r.external_id, r.state) for r in placed.recipients] == [
        ("6281234567890", "18319370", DeliveryState.QUEUED)
    ]


def test_each_recipient_gets_its_own_text(adapter, mocked):
    text(mocked, SEND, "send_ok.txt")
    text(mocked, SEND, "send_ok_2.txt")
    adapter.place_order(sms("6281200000001", "6281200000002", messages=("satu", "dua")))
    assert [(query(call)["hp"], query(call)["message"]) for call in mocked.calls] == [
        ("6281200000001", "satu"),
        ("6281200000002", "dua"),
    ]


def test_send_post_when_configured(mocked):
    adapter = make_adapter(KIND, options={"method": "POST"})
    fields = {**CREDENTIALS, "hp": "6281234567890", "message": "Halo 4821"}
    text(mocked, f"{BASE}/send_post.php", "send_ok.txt", "POST", match=[matchers.urlencoded_params_matcher(fields)])

    assert adapter.place_order(sms("6281234567890")).external_id == "18319370"


def test_one_request_per_recipient_with_results_per_recipient(adapter, mocked):
    text(mocked, SEND, "send_ok.txt")
    text(mocked, SEND, "send_error_saldo.txt")
    mocked.get(SEND, body=requests.ReadTimeout("read timed out"))
    text(mocked, SEND, "send_ok_2.txt")
    numbers = ("6281200000001", "6281200000002", "6281200000003", "6281200000004")

    placed = adapter.place_order(sms(*numbers))

    assert [query(call)["hp"] for call in mocked.calls] == list(numbers)
    assert [(r.number, r.external_id, r.state, r.code) for r in placed.recipients] == [
        ("6281200000001", "18319370", DeliveryState.QUEUED, ""),
        ("6281200000002", "", DeliveryState.REJECTED, ""),
        ("6281200000003", "", DeliveryState.SENT, "unknown"),
        ("6281200000004", "18319371", DeliveryState.QUEUED, ""),
    ]
    assert placed.recipients[1].text == "Saldo tidak cukup"
    assert placed.recipients[2].text == "no reply within 25s"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"body": fixture_text(KIND, "send_error_login.txt")}, ProviderRejected),
        ({"body": requests.ConnectTimeout("connect timed out")}, ProviderUnavailable),
        ({"body": requests.ReadTimeout("read timed out")}, ProviderOutcomeUnknown),
        ({"body": "", "status": 200}, ProviderBadResponse),
    ],
)
def test_a_failing_first_send_is_raised_so_the_caller_can_fall_back(adapter, mocked, reply, error):
    mocked.get(SEND, **reply)

    with pytest.raises(error) as caught:
        adapter.place_order(sms("6281200000001", "6281200000002"))

    assert type(caught.value) is error
    assert len(mocked.calls) == 1
    assert_no_secret(caught.value)


def test_login_refusal_keeps_the_vendor_text(adapter, mocked):
    text(mocked, SEND, "send_error_login.txt")

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(sms("6281200000001"))

    assert caught.value.message == "Username atau Password salah"


def test_gateway_down_mid_batch_marks_the_rest_not_sent(adapter, mocked):
    text(mocked, SEND, "send_ok.txt")
    mocked.get(SEND, body=requests.ConnectTimeout("connect timed out"))
    numbers = ("6281200000001", "6281200000002", "6281200000003")

    placed = adapter.place_order(sms(*numbers))

    assert len(mocked.calls) == 2
    assert [(r.state, r.code) for r in placed.recipients] == [
        (DeliveryState.QUEUED, ""),
        (DeliveryState.REJECTED, "not_sent"),
        (DeliveryState.REJECTED, "not_sent"),
    ]


def test_three_lost_replies_in_a_row_stop_the_batch(adapter, mocked):
    text(mocked, SEND, "send_ok.txt")
    mocked.get(SEND, body=requests.ReadTimeout("read timed out"))
    numbers = tuple(f"628120000000{n}" for n in range(6))

    placed = adapter.place_order(sms(*numbers))

    assert len(mocked.calls) == 4
    assert [(r.state, r.code) for r in placed.recipients] == [
        (DeliveryState.QUEUED, ""),
        (DeliveryState.SENT, "unknown"),
        (DeliveryState.SENT, "unknown"),
        (DeliveryState.SENT, "unknown"),
        (DeliveryState.REJECTED, "not_sent"),
        (DeliveryState.REJECTED, "not_sent"),
    ]


def test_garbled_reply_after_a_success_is_an_unknown_outcome(adapter, mocked):
    text(mocked, SEND, "send_ok.txt")
    mocked.get(SEND, body="<html><body>502 Bad Gateway</body></html>", status=502)

    placed = adapter.place_order(sms("6281200000001", "6281200000002"))

    assert (placed.recipients[1].state, placed.recipients[1].code) == (DeliveryState.SENT, "unknown")


def test_schedule_is_not_supported(adapter, mocked):
    with pytest.raises(ProviderNotSupported, match="scheduled sending"):
        adapter.place_order(sms("6281200000001", schedule=datetime(2025, 3, 1, tzinfo=UTC)))
    assert len(mocked.calls) == 0


def test_too_many_recipients(adapter, mocked):
    with pytest.raises(ValueError, match="at most 1000"):
        adapter.place_order(sms(*(f"62812{n:08d}" for n in range(1001))))
    assert len(mocked.calls) == 0


# --- reports -------------------------------------------------------------------------------------
def test_report_codes(adapter, mocked):
    for report_id, name in (("1", "report_22.txt"), ("2", "report_20.txt"), ("3", "report_50.txt")):
        text(
            mocked, f"{BASE}/report.php", name, match=[matchers.query_param_matcher({"rpt": report_id, **CREDENTIALS})]
        )

    reports = adapter.fetch_reports(["1", "2", "3", "1"])

    assert [(r.external_id, r.state, r.code, r.text) for r in reports] == [
        ("1", DeliveryState.DELIVERED, "22", ""),
        ("2", DeliveryState.SENT, "20", ""),
        ("3", DeliveryState.FAILED, "50", "Saldo Habis"),
    ]


def test_a_report_that_is_not_a_code_is_skipped_and_logged(adapter, mocked, caplog):
    text(mocked, f"{BASE}/report.php", "report_unknown.txt")
    text(mocked, f"{BASE}/report.php", "report_22.txt")

    reports = adapter.fetch_reports(["7", "8"])

    assert [r.external_id for r in reports] == ["8"]
    assert "report 7: unexpected reply 'Data tidak ditemukan'" in caplog.text


def test_report_html_page_is_a_bad_response(adapter, mocked):
    mocked.get(f"{BASE}/report.php", body="<html>maintenance</html>")

    with pytest.raises(ProviderBadResponse, match="HTML page instead of a plain-text reply"):
        adapter.fetch_reports(["1"])


def test_download_report_posts_the_date_range(adapter, mocked):
    fields = {**CREDENTIALS, "start": "01-03-2025", "end": "07-03-2025", "download_report_button": "Download"}
    text(
        mocked,
        f"{BASE}/reports_post.php",
        "reports_post.csv",
        "POST",
        match=[matchers.urlencoded_params_matcher(fields)],
    )

    report = adapter.download_report(date(2025, 3, 1), date(2025, 3, 7))

    assert report == fixture_text(KIND, "reports_post.csv")


def test_download_report_range_must_be_ordered(adapter, mocked):
    with pytest.raises(ValueError, match="after its end"):
        adapter.download_report(date(2025, 3, 7), date(2025, 3, 1))


def test_download_report_server_error(adapter, mocked):
    mocked.post(f"{BASE}/reports_post.php", body="<html>500</html>", status=500)

    with pytest.raises(ProviderBadResponse, match="HTTP 500 instead of a reply"):
        adapter.download_report(date(2025, 3, 1), date(2025, 3, 1))


def test_inbox(adapter, mocked):
    text(mocked, f"{BASE}/inbox.php", "inbox.txt", match=[matchers.query_param_matcher(CREDENTIALS)])

    assert adapter.inbox() == fixture_text(KIND, "inbox.txt")


# --- balance -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "amount"),
    [("balance.txt", "1234567"), ("balance_plain.txt", "150000"), ("balance_expiry.txt", "150000.50")],
)
def test_balance_takes_the_first_number(adapter, mocked, name, amount):
    text(mocked, f"{BASE}/balance.php", name, match=[matchers.query_param_matcher(CREDENTIALS)])

    assert adapter.fetch_balance().amount == Decimal(amount)


def test_balance_keeps_the_expiry_apart(adapter, mocked):
    """ "<balance>,<expiry>" as public clients read it: the expiry's year is not the balance's decimals."""
    text(mocked, f"{BASE}/balance.php", "balance_expiry.txt")
    balance = adapter.fetch_balance()
    assert balance.amount == Decimal("150000.50") and balance.raw["expires"] == "2026/06/30-23:59:59"


def test_balance_refused(adapter, mocked):
    text(mocked, f"{BASE}/balance.php", "send_error_login.txt")

    with pytest.raises(ProviderRejected, match="Username atau Password salah"):
        adapter.fetch_balance()


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("150000", "150000"),
        ("Saldo: Rp 15.000.", "15000"),
        ("1,234,567.50", "1234567.50"),
        ("1.234.567,5", "1234567.5"),
        ("500000.00", "500000.00"),
        ("Sisa saldo 12.5 SMS", "12.5"),
        ("no digits", None),
    ],
)
def test_parse_amount(raw, amount):
    assert parse_amount(raw) == (Decimal(amount) if amount else None)


# --- DLR callback --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("22", DeliveryState.DELIVERED),
        ("20", DeliveryState.SENT),
        ("50", DeliveryState.FAILED),
        ("51", DeliveryState.FAILED),
        ("52", DeliveryState.REJECTED),
    ],
)
def test_dlr_callback(adapter, code, state):
    params = fixture_json(KIND, f"dlr_{code}.json")

    [report] = adapter.parse_callback("GET", params, b"")

    assert (report.external_id, report.number, report.state, report.code) == (
        "38590565",
        "6282212345678",
        state,
        code,
    )
    assert report.text == params["error_message"]
    assert report.raw == params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "session_id"),
        ({"session_id": "abc", "error_code": "22"}, "session_id"),
        ({"session_id": "38590565", "error_code": "99"}, "unknown code '99'"),
        ({"session_id": "38590565"}, "error_code"),
    ],
)
def test_malformed_dlr(adapter, params, message):
    with pytest.raises(CallbackInvalid, match=message):
        adapter.parse_callback("GET", params, b"")


def test_capabilities(adapter, mocked):
    assert adapter.effective_capabilities() == {
        Capability.BALANCE,
        Capability.CALLBACKS,
        Capability.REPORT_POLL,
    }
    assert adapter.fetch_services() == [] and adapter.fetch_statuses(["1"]) == []


def test_login_and_password_in_a_get_url_are_masked(adapter, mocked, caplog):
    text(mocked, SEND, "send_ok.txt")

    adapter.place_order(sms("6281200000001"))

    assert "send.php?username=***&password=***" in caplog.text and "panelku" not in caplog.text
    assert form(mocked.calls[0]) == {}  # GET: nothing in the body
