from __future__ import annotations

from decimal import Decimal

import pytest
import responses
from responses import matchers

from providers.adapters.errors import ProviderBadResponse, ProviderNotSupported, ProviderRejected, Refusal
from providers.adapters.types import Capability, OrderRequest, ProductKind, Status
from providers.adapters.virtusim import VirtuSimAdapter, _otp_code, refusal_of

from .conftest import API_KEY, URLS, assert_no_secret, fixture_json, make_adapter, query

URL = URLS["virtusim"]
KIND = "virtusim"


@pytest.fixture
def adapter() -> VirtuSimAdapter:
    return make_adapter(KIND)


def reply(mocked: responses.RequestsMock, name: str, **params: str) -> None:
    match = [matchers.query_param_matcher({"api_key": API_KEY, **params})] if params else []
    mocked.get(URL, json=fixture_json(KIND, name), match=match)


def actions(mocked: responses.RequestsMock) -> list[tuple[str, str]]:
    return [(query(c)["action"], query(c).get("id", "")) for c in mocked.calls]


# --- services ------------------------------------------------------------------------------------
def test_services_are_read_with_string_numbers(adapter, mocked):
    reply(mocked, "services.json", action="services", country="indo")

    services = adapter.fetch_services()

    assert [s.external_id for s in services] == ["1", "2", "3", "4"]
    twitter = services[0]
    assert (twitter.name, twitter.category, twitter.kind) == ("Twitter", "OTP", ProductKind.OTP)
    assert twitter.cost == Decimal("650") and isinstance(twitter.cost, Decimal)
    assert (twitter.stock, twitter.in_stock, twitter.min_qty, twitter.max_qty) == (8179, True, 1, 1)
    assert twitter.raw["tersedia"] == "8179"
    assert services[2].stock == 0 and services[2].in_stock is False  # tersedia "0"
    assert services[3].cost == Decimal(1500) and services[3].stock == 7962  # numbers as numbers


def test_service_with_a_non_numeric_price_names_the_field(adapter, mocked):
    reply(mocked, "services_wrong_types.json")

    with pytest.raises(ProviderBadResponse) as caught:
        adapter.fetch_services()

    assert "data[1].price" in caught.value.message and "'abc'" in caught.value.message
    assert str(caught.value).startswith("virtusim-test: ")


def test_data_as_a_string_is_a_bad_response(adapter, mocked):
    reply(mocked, "wrong_types.json")

    with pytest.raises(ProviderBadResponse, match=r"data: expected a list, got 'oops'"):
        adapter.fetch_services()


@pytest.mark.parametrize("fixture", ["error_api_key_salah.json", "error_permintaan_tidak_sesuai.json"])
def test_services_errors_are_rejections(adapter, mocked, fixture):
    reply(mocked, fixture)

    with pytest.raises(ProviderRejected) as caught:
        adapter.fetch_services()

    assert caught.value.message == fixture_json(KIND, fixture)["data"]["msg"]
    assert_no_secret(caught.value)


# --- order ---------------------------------------------------------------------------------------
def test_order_hands_out_a_number(adapter, mocked):
    reply(mocked, "order.json", action="order", service="26", operator="indosat")

    placed = adapter.place_order(OrderRequest(kind=ProductKind.OTP, service_id="26", operator="indosat"))

    assert (placed.external_id, placed.number) == ("9418", "6285648626733")
    assert (placed.status, placed.raw_status) == (Status.PENDING, "")
    assert placed.raw["data"]["service_name"] == "Anyother"


def test_order_operator_defaults_to_any(adapter, mocked):
    reply(mocked, "order.json", action="order", service="26", operator="any")

    adapter.place_order(OrderRequest(kind=ProductKind.OTP, service_id="26", operator=""))


@pytest.mark.parametrize(
    "fixture",
    [
        "error_saldo_tidak_cukup.json",
        "error_layanan_tidak_ditemukan.json",
        "error_layanan_tidak_tersedia.json",
        "error_jumlah_pesan_tidak_sesuai.json",
        "error_permintaan_tidak_sesuai.json",
        "error_api_key_salah.json",
    ],
)
def test_order_refusals_keep_the_vendor_text(adapter, mocked, fixture):
    reply(mocked, fixture)

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(OrderRequest(kind=ProductKind.OTP, service_id="26"))

    expected = fixture_json(KIND, fixture)["data"]["msg"]
    assert caught.value.message == expected
    assert str(caught.value) == f"virtusim-test: {expected} (HTTP 200)"


def test_order_without_an_id_is_a_bad_response(adapter, mocked):
    reply(mocked, "order_without_id.json")

    with pytest.raises(ProviderBadResponse, match=r"data\.id: missing"):
        adapter.place_order(OrderRequest(kind=ProductKind.OTP, service_id="26"))


def test_order_without_service_is_a_programming_error(adapter, mocked):
    with pytest.raises(ValueError, match="service id"):
        adapter.place_order(OrderRequest(kind=ProductKind.OTP))
    assert len(mocked.calls) == 0


# --- set_status ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "code"), [("ready", "1"), ("cancel", "2"), ("resend", "3"), ("done", "4")])
def test_set_status_codes(adapter, mocked, method, code):
    reply(mocked, "set_status_ok.json", action="set_status", id="9418", status=code)

    result = getattr(adapter, method)("9418")

    assert result.ok is True
    assert result.message == "Berhasil menunggu sms masuk"


def test_failed_cancel_is_rejected_with_top_level_msg(adapter, mocked):
    reply(mocked, "set_status_gagal_cancel.json", action="set_status", id="9418", status="2")

    with pytest.raises(ProviderRejected) as caught:
        adapter.cancel("9418")

    assert caught.value.message == "Gagal Cancel"


# --- statuses ------------------------------------------------------------------------------------
def test_refresh_uses_one_active_order_call_and_status_only_for_missing_ids(adapter, mocked):
    reply(mocked, "active_order.json", action="active_order")
    reply(mocked, "status_success.json", action="status", id="9417")
    reply(mocked, "error_pesanan_tidak_ditemukan.json", action="status", id="9999")

    results = adapter.fetch_statuses(["9418", "9420", "9417", "9999", "9417"])

    assert actions(mocked) == [("active_order", ""), ("status", "9417"), ("status", "9999")]
    by_id = {r.external_id: r for r in results}
    assert list(by_id) == ["9418", "9420", "9417", "9999"]
    received = by_id["9418"]
    assert (received.status, received.raw_status, received.otp_code) == (
        Status.PROCESSING,
        "Otp Diterima",
        "299825",
    )
    assert received.sms_text.startswith("299825 adalah kode") and received.number == "6285985236642"
    waiting = by_id["9420"]
    assert (waiting.status, waiting.otp_code, waiting.sms_text) == (Status.PENDING, "", "")
    finished = by_id["9417"]
    assert (finished.status, finished.otp_code) == (Status.COMPLETED, "4821")
    missing = by_id["9999"]
    assert (missing.found, missing.status, missing.error) == (False, Status.UNKNOWN, "Pesanan tidak ditemukan")


def test_refresh_of_active_orders_only_needs_one_call(adapter, mocked):
    reply(mocked, "active_order.json", action="active_order")

    results = adapter.fetch_statuses(["9419", "9418"])

    assert len(mocked.calls) == 1
    assert [r.otp_code for r in results] == ["633330", "299825"]


def test_refresh_with_nothing_active_asks_each_id(adapter, mocked):
    reply(mocked, "active_order_empty.json", action="active_order")
    reply(mocked, "status_cancel.json", action="status", id="9416")
    reply(mocked, "status_error.json", action="status", id="9415")

    results = adapter.fetch_statuses(["9416", "9415"])

    assert [(r.status, r.raw_status) for r in results] == [
        (Status.CANCELED, "Cancel"),
        (Status.FAILED, "Error"),
    ]


def test_refresh_of_no_ids_calls_nothing(adapter, mocked):
    assert adapter.fetch_statuses([]) == []
    assert len(mocked.calls) == 0


def test_an_account_error_during_refresh_is_raised_not_hidden(adapter, mocked):
    reply(mocked, "active_order_empty.json", action="active_order")
    reply(mocked, "error_api_key_salah.json", action="status", id="9416")

    with pytest.raises(ProviderRejected, match="API Key salah"):
        adapter.fetch_statuses(["9416"])


def test_status_pending(adapter, mocked):
    reply(mocked, "active_order_empty.json", action="active_order")
    reply(mocked, "status_pending.json", action="status", id="9420")

    [result] = adapter.fetch_statuses(["9420"])

    assert (result.status, result.raw_status, result.found) == (Status.PENDING, "Pending", True)


def test_recent_orders_are_the_active_list(adapter, mocked):
    reply(mocked, "active_order.json", action="active_order")

    recent = adapter.recent_orders(limit=2)

    assert [r.external_id for r in recent] == ["9418", "9419"]


# --- table and capabilities ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Ready", Status.PENDING),
        ("Pending", Status.PENDING),
        ("Otp Diterima", Status.PROCESSING),
        ("Processing", Status.PROCESSING),
        ("Success", Status.COMPLETED),
        ("Error", Status.FAILED),
        ("Cancel", Status.CANCELED),
        ("Canceled", Status.CANCELED),
        ("Dibatalkan", Status.CANCELED),
    ],
)
def test_status_table(adapter, raw, status):
    assert adapter.map_status(raw) is status


@pytest.mark.parametrize(
    ("sms", "code"),
    [
        (" 299825 adalah kode verifikasi Anda. Info: 1500340", "299825"),
        ("Kode OTP Shopee: 4821.", "4821"),
        ("<#> 12345678 is your code", "12345678"),
        ("Pesanan 123 kode 987654321 ok 5555", "5555"),  # 3 and 9 digits are not codes
        ("", ""),
    ],
)
def test_otp_code_is_the_first_run_of_4_to_8_digits(sms, code):
    assert _otp_code(sms) == code


def test_virtusim_has_no_balance_endpoint(adapter, mocked):
    assert not adapter.has(Capability.BALANCE)
    with pytest.raises(ProviderNotSupported):
        adapter.fetch_balance()


# --- every documented message, read into what it means --------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "refusal"),
    [
        ("error_api_key_salah.json", Refusal.AUTH),
        ("error_saldo_tidak_cukup.json", Refusal.PROVIDER_FUNDS),
        ("error_layanan_tidak_ditemukan.json", Refusal.NO_SERVICE),
        ("error_layanan_tidak_tersedia.json", Refusal.OUT_OF_STOCK),
        ("error_jumlah_pesan_tidak_sesuai.json", Refusal.LIMIT),
        ("error_permintaan_tidak_sesuai.json", Refusal.BAD_REQUEST),
    ],
)
def test_order_refusals_carry_their_meaning(adapter, mocked, fixture, refusal):
    reply(mocked, fixture)

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(OrderRequest(kind=ProductKind.OTP, service_id="26"))

    assert caught.value.refusal is refusal
    assert caught.value.provider == "virtusim-test"  # the meaning survives the reading wrapper


def test_set_status_failures_carry_their_meaning(adapter, mocked):
    reply(mocked, "set_status_gagal_cancel.json", action="set_status", id="9418", status="2")
    reply(mocked, "error_jumlah_pesan_tidak_sesuai.json", action="set_status", id="9418", status="3")

    with pytest.raises(ProviderRejected) as refused:
        adapter.cancel("9418")
    with pytest.raises(ProviderRejected) as limited:
        adapter.resend("9418")

    assert (refused.value.refusal, limited.value.refusal) == (Refusal.REFUSED, Refusal.LIMIT)


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("API Key salah", Refusal.AUTH),
        ("  saldo  TIDAK cukup ", Refusal.PROVIDER_FUNDS),
        ("Pesanan tidak ditemukan", Refusal.NOT_FOUND),
        ("Gagal Ready", Refusal.REFUSED),
        ("Gagal Selesai", Refusal.REFUSED),
        ("Server sedang maintenance", None),  # not in the document: no meaning is guessed
    ],
)
def test_refusal_of_documented_texts(text, refusal):
    assert refusal_of(text) is refusal


def test_error_status_from_a_recorded_reply_is_failed(adapter, mocked):
    reply(mocked, "active_order_empty.json", action="active_order")
    reply(mocked, "status_error.json", action="status", id="9415")

    [result] = adapter.fetch_statuses(["9415"])

    assert (result.status, result.raw_status, result.found) == (Status.FAILED, "Error", True)
