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
        ("3", DeliveryState.REJECTED, "50", "Saldo Habis"),
    ]


@pytest.mark.parametrize(
    ("name", "code", "text"),
    [
        # report.php's 50 carries one of three reasons; none cut the vendor balance, so each is REJECTED (the
        # reseller's share comes back) under the DLR code that names it, as a callback would say it.
        ("report_50.txt", "50", "Saldo Habis"),
        ("report_50_periode_habis.txt", "51", "Periode Habis"),
        ("report_50_no_charge.txt", "52", "No Charge"),
    ],
)
def test_report_50_is_read_by_its_reason(adapter, mocked, name, code, text):
    mocked.get(f"{BASE}/report.php", body=fixture_text(KIND, name))

    [report] = adapter.fetch_reports(["9"])

    assert (report.state, report.code, report.text) == (DeliveryState.REJECTED, code, text)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("50 no  charge", "52"),
        ("50 - No Charge (kesalahan format nomor tujuan)", "52"),
        ("50: PERIODE HABIS", "51"),
        ("50|Expiration Periode", "51"),
        ("50 Insufficient Credit Balance", "50"),
    ],
)
def test_report_50_reason_spellings(adapter, mocked, body, code):
    mocked.get(f"{BASE}/report.php", body=body)

    [report] = adapter.fetch_reports(["9"])

    assert (report.state, report.code) == (DeliveryState.REJECTED, code)


@pytest.mark.parametrize("body", [fixture_text(KIND, "report_50_bare.txt"), "50 Gagal"])
def test_report_50_without_a_known_reason_is_failed_not_refunded(adapter, mocked, caplog, body):
    """Not one of the document's reasons: nothing says the vendor did not charge, so no blind refund."""
    mocked.get(f"{BASE}/report.php", body=body)

    [report] = adapter.fetch_reports(["9"])

    assert (report.state, report.code) == (DeliveryState.FAILED, "50")
    assert "report 9: 50 with an unknown reason" in caplog.text


def test_account_codes_name_the_providers_own_trouble():
    assert set(MaskingHttpAdapter.account_codes) == {"50", "51"}  # not 52: a bad number is the reseller's
    assert "Saldo Habis" in MaskingHttpAdapter.account_codes["50"]
    assert "Periode Habis" in MaskingHttpAdapter.account_codes["51"]


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


def report_reply(mocked: responses.RequestsMock, name: str, **kwargs) -> None:
    text(mocked, f"{BASE}/reports_post.php", name, "POST", **kwargs)


def test_download_report_posts_the_date_range_and_reads_every_row(adapter, mocked):
    fields = {**CREDENTIALS, "start": "01-03-2025", "end": "07-03-2025", "download_report_button": "Download"}
    report_reply(mocked, "reports_post.csv", match=[matchers.urlencoded_params_matcher(fields)])

    rows = adapter.download_report(date(2025, 3, 1), date(2025, 3, 7))

    assert [(r.external_id, r.number, r.parts, r.code, r.state, r.text) for r in rows] == [
        ("18319370", "6281234567890", 1, "22", DeliveryState.DELIVERED, "Delivered"),
        ("18319371", "6281298765434", 2, "50", DeliveryState.REJECTED, "Insufficient Credit Balance"),
        ("18319372", "6281298765435", 1, "52", DeliveryState.REJECTED, "No Charge"),
        ("18319373", "6281298765436", 1, "20", DeliveryState.SENT, "Pending"),
    ]
    assert rows[1].message == "Halo, ini pesan panjang"  # a quoted comma stays in the text
    # d-m-Y H:i:s on the gateway's clock (WIB): 23:59:59 on the 1st is 16:59:59 UTC
    assert rows[2].sent_at == datetime(2025, 3, 1, 16, 59, 59, tzinfo=UTC)
    assert rows[0].raw["keterangan"] == "Delivered"


def test_download_report_reads_texts_for_codes_and_other_delimiters(adapter, mocked):
    """A report printing the document's texts (Saldo Habis...) instead of codes, with `;` between fields."""
    report_reply(mocked, "reports_post_texts.csv")

    rows = adapter.download_report(date(2025, 3, 1), date(2025, 3, 1))

    assert [(r.external_id, r.code, r.state, r.text) for r in rows] == [
        ("18319380", "22", DeliveryState.DELIVERED, "Delivered"),
        ("18319381", "50", DeliveryState.REJECTED, "Saldo Habis"),
        ("18319382", "51", DeliveryState.REJECTED, "Periode Habis"),
        ("18319383", "52", DeliveryState.REJECTED, "No Charge"),
        ("18319384", "", None, "Ditolak operator"),  # kept, with no state: the operator sees it
    ]


def test_download_report_with_no_sms_is_an_empty_list(adapter, mocked):
    report_reply(mocked, "reports_post_empty.csv")
    assert adapter.download_report(date(2025, 3, 1), date(2025, 3, 1)) == []


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ("", ProviderBadResponse, "empty reply"),
        ("   \r\n", ProviderBadResponse, "empty reply"),
        ("<html>maintenance</html>", ProviderBadResponse, "HTML page instead of a report"),
        ('{"status": "ok"}', ProviderBadResponse, "JSON instead of a report"),
        ("Format tanggal salah", ProviderRejected, "Format tanggal salah"),
        ("Username atau Password salah", ProviderRejected, "Username atau Password salah"),
    ],
)
def test_download_report_unusable_replies(adapter, mocked, body, error, message):
    mocked.post(f"{BASE}/reports_post.php", body=body)

    with pytest.raises(error) as caught:
        adapter.download_report(date(2025, 3, 1), date(2025, 3, 1))

    assert type(caught.value) is error and caught.value.message == message
    assert_no_secret(caught.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("reports_post_no_id.csv", "lacks id"),  # rows with no report id cannot be matched: refused, not guessed
        ("reports_post_short_row.csv", "line 2: 6 fields, the header has 7"),
        ("reports_post_wrong_types.csv", "parts: expected a number, got 'satu'"),
        ("reports_post_bad_time.csv", "time: expected d-m-Y H:i:s, got '2025/03/01 10:15'"),
    ],
)
def test_download_report_malformed_tables_are_bad_responses(adapter, mocked, name, message):
    report_reply(mocked, name)

    with pytest.raises(ProviderBadResponse, match=message):
        adapter.download_report(date(2025, 3, 1), date(2025, 3, 1))


def test_download_report_range_must_be_ordered(adapter, mocked):
    with pytest.raises(ValueError, match="after its end"):
        adapter.download_report(date(2025, 3, 7), date(2025, 3, 1))


def test_download_report_server_error(adapter, mocked):
    mocked.post(f"{BASE}/reports_post.php", body="<html>500</html>", status=500)

    with pytest.raises(ProviderBadResponse, match="HTTP 500 instead of a reply"):
        adapter.download_report(date(2025, 3, 1), date(2025, 3, 1))


def test_inbox(adapter, mocked):
    text(mocked, f"{BASE}/inbox.php", "inbox.csv", match=[matchers.query_param_matcher(CREDENTIALS)])

    messages = adapter.inbox()

    assert [(m.external_id, m.number, m.text, m.received_at) for m in messages] == [
        ("5501", "62812345678901", "Ya, saya hadir", datetime(2025, 3, 1, 3, 20, 11, tzinfo=UTC)),
        ("5502", "6281298765434", "STOP", datetime(2025, 3, 1, 3, 21, 40, tzinfo=UTC)),
    ]


def test_inbox_without_ids(adapter, mocked):
    text(mocked, f"{BASE}/inbox.php", "inbox_no_id.txt")

    messages = adapter.inbox()

    assert [(m.external_id, m.number, m.text) for m in messages] == [("", "62812345678901", "Ya, saya hadir")] * 2


@pytest.mark.parametrize("name", ["inbox_empty.csv"])
def test_inbox_empty(adapter, mocked, name):
    text(mocked, f"{BASE}/inbox.php", name)
    assert adapter.inbox() == []
    mocked.replace("GET", f"{BASE}/inbox.php", body="")
    assert adapter.inbox() == []  # an empty body is an empty inbox


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ("Username atau Password salah", ProviderRejected, "Username atau Password salah"),
        ("<html>502</html>", ProviderBadResponse, "HTML page instead of a report"),
        (fixture_text(KIND, "inbox_headerless.txt"), ProviderBadResponse, "lacks number, text"),
        ("id,tanggal,pengirim,pesan\r\nx1,01-03-2025 10:20:11,6281,YA\r\n", ProviderBadResponse, "id: expected"),
    ],
)
def test_inbox_unusable_replies(adapter, mocked, body, error, message):
    mocked.get(f"{BASE}/inbox.php", body=body)

    with pytest.raises(error, match=message) as caught:
        adapter.inbox()

    assert type(caught.value) is error
    assert_no_secret(caught.value)


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
        ("50", DeliveryState.REJECTED),  # Saldo Habis: not sent, nothing deducted
        ("51", DeliveryState.REJECTED),  # Periode Habis: not sent, nothing deducted
        ("52", DeliveryState.REJECTED),  # No Charge
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
        Capability.SENT_REPORT,
        Capability.INBOX,
    }
    assert adapter.fetch_services() == [] and adapter.fetch_statuses(["1"]) == []


def test_login_and_password_in_a_get_url_are_masked(adapter, mocked, caplog):
    text(mocked, SEND, "send_ok.txt")

    adapter.place_order(sms("6281200000001"))

    assert "send.php?username=***&password=***" in caplog.text and "panelku" not in caplog.text
    assert form(mocked.calls[0]) == {}  # GET: nothing in the body
