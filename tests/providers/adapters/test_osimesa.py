from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
import responses
from responses import matchers

from providers.adapters.errors import ProviderBadResponse, ProviderRejected
from providers.adapters.osimesa import OsimesaAdapter
from providers.adapters.types import Capability, OrderRequest, ProductKind, Status

from .conftest import API_KEY, URLS, USER_ID, assert_no_secret, fixture_json, form, make_adapter

KIND = "osimesa"
URL = URLS["osimesa"]
SIGN = hashlib.md5(f"{USER_ID}{API_KEY}".encode()).hexdigest()
ORDER = OrderRequest(kind=ProductKind.PREPAID, service_id="S10", target="081234567890")


@pytest.fixture
def adapter() -> OsimesaAdapter:
    return make_adapter(KIND)


def reply(mocked: responses.RequestsMock, name: str, status: int = 200, **fields: str) -> None:
    match = [matchers.urlencoded_params_matcher({"key": API_KEY, "sign": SIGN, **fields})] if fields else []
    mocked.post(URL, json=fixture_json(KIND, name), status=status, match=match)


def test_sign_is_md5_of_user_id_then_key():
    adapter = make_adapter(KIND, user_id="12345", api_key="abcdef")
    assert adapter.sign == "4880c0340c65d142838ea33ace9b850a"  # md5("12345abcdef")
    assert adapter.sign != hashlib.md5(b"abcdef12345").hexdigest()  # not key + user id


# --- service -------------------------------------------------------------------------------------
def test_services(adapter, mocked):
    reply(mocked, "service.json", type="service")

    bronet, tri, telkomsel, free_fire = adapter.fetch_services()

    assert (bronet.external_id, bronet.name) == ("BR10", "Axis Data BRONET 13 GB / 30 Hari")
    assert (bronet.category, bronet.kind) == ("paket-internet / AXIS / Bronet", ProductKind.PREPAID)
    assert bronet.cost == Decimal(50500)  # price.current, not a list price
    assert (bronet.cutoff_start, bronet.cutoff_end) == (time(23, 29), time(0, 30))
    assert (bronet.in_stock, bronet.description) == (False, "-")  # status "empty"
    assert (tri.in_stock, tri.description, tri.min_qty, tri.max_qty) == (True, "Pulsa Transfer", 1, 1)
    assert tri.raw["price"]["list"]["premium"] == 73975
    assert telkomsel.category == "pulsa-reguler / TELKOMSEL"  # empty sub left out
    assert telkomsel.cost == Decimal("10650")  # string price
    assert (telkomsel.cutoff_start, telkomsel.cutoff_end) == (None, None)  # 00:00-00:00: no window
    assert (free_fire.cutoff_start, free_fire.cutoff_end, free_fire.description) == (None, None, "")


def test_services_keep_levels_multi_type_and_updated_at(adapter, mocked):
    reply(mocked, "service.json", type="service")

    bronet, tri, telkomsel, free_fire = adapter.fetch_services()

    # the three levels are kept; the cost stays `current`, the panel account's own level
    assert bronet.price_levels == {"standar": Decimal(50500), "premium": Decimal(50300), "spesial": Decimal(50120)}
    assert telkomsel.price_levels["spesial"] == Decimal(10575) and telkomsel.cost == Decimal(10650)
    assert free_fire.price_levels == {}  # no list: nothing invented
    assert [s.multi for s in (bronet, tri, telkomsel, free_fire)] == [True, True, False, True]  # absent = allowed
    assert [s.product_type for s in (bronet, tri, telkomsel, free_fire)] == [
        "paket-internet",
        "pulsa-transfer",
        "pulsa-reguler",
        "voucher-game",
    ]
    assert bronet.upstream_updated_at == datetime(2024, 3, 22, 10, 27, 4, tzinfo=UTC)
    assert free_fire.upstream_updated_at is None


@pytest.mark.parametrize(("multi", "expected"), [("0", False), (0, False), ("1", True), (True, True), ("", True)])
def test_multi_values(adapter, mocked, multi, expected):
    item = {"code": "X1", "name": "X", "price": {"current": 1000}, "multi": multi, "updated_at": "kemarin"}
    mocked.post(URL, json={"code": 200, "status": True, "message": "Success.", "data": [item]})

    [service] = adapter.fetch_services()

    assert service.multi is expected
    assert service.upstream_updated_at is None  # an unreadable updated_at is dropped, not fatal


def test_multi_of_the_wrong_shape_names_the_field(adapter, mocked):
    item = {"code": "X1", "name": "X", "price": {"current": 1000}, "multi": ["1"]}
    mocked.post(URL, json={"code": 200, "status": True, "message": "Success.", "data": [item]})

    with pytest.raises(ProviderBadResponse, match=r"data\[0\]\.multi: expected 1 or 0"):
        adapter.fetch_services()


def test_service_with_a_non_numeric_price_names_the_field(adapter, mocked):
    reply(mocked, "service_wrong_types.json")

    with pytest.raises(ProviderBadResponse) as caught:
        adapter.fetch_services()

    assert caught.value.message == "data[1].price.current: expected a number, got 'abc'"


def test_service_with_an_impossible_cutoff(adapter, mocked):
    reply(mocked, "service_bad_cutoff.json")

    with pytest.raises(ProviderBadResponse, match=r"data\[0\]\.cutoff\.start: expected HH:MM, got '25:99'"):
        adapter.fetch_services()


def test_data_as_a_string(adapter, mocked):
    reply(mocked, "wrong_types.json")

    with pytest.raises(ProviderBadResponse, match="data: expected a list, got 'oops'"):
        adapter.fetch_services()


# --- order ---------------------------------------------------------------------------------------
def test_order(adapter, mocked):
    reply(mocked, "order.json", type="order", service="S10", data_no="081234567890")

    placed = adapter.place_order(ORDER)

    assert (placed.external_id, placed.status, placed.raw_status) == ("OSM25030100017", Status.PENDING, "waiting")
    assert (placed.charge, placed.voucher) == (Decimal(10000), "")
    assert placed.message.startswith("Thank you for purchasing")


@pytest.mark.parametrize(
    "fixture",
    [
        "error_401.json",
        "error_400_product_not_found.json",
        "error_400_product_empty.json",
        "error_400_cutoff.json",
        "error_400_balance.json",
        "error_400_number.json",
    ],
)
@pytest.mark.parametrize("http_status", [200, 400])
def test_order_refusals(adapter, mocked, fixture, http_status):
    reply(mocked, fixture, status=http_status)

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(ORDER)

    assert caught.value.message == fixture_json(KIND, fixture)["message"]
    assert_no_secret(caught.value)


def test_vendor_internal_error_is_not_a_refusal(adapter, mocked):
    reply(mocked, "error_500.json", status=500)

    with pytest.raises(ProviderBadResponse, match="vendor error 500: Internal error"):
        adapter.place_order(ORDER)


def test_order_needs_product_and_target(adapter, mocked):
    with pytest.raises(ValueError):
        adapter.place_order(OrderRequest(kind=ProductKind.PREPAID, service_id="S10"))
    assert len(mocked.calls) == 0


# --- status --------------------------------------------------------------------------------------
def test_status_one_call_per_ref_id(adapter, mocked):
    reply(mocked, "status_success.json", type="status", ref_id="OSM25030100017")
    reply(mocked, "error_404.json", type="status", ref_id="NOPE")

    done, missing = adapter.fetch_statuses(["OSM25030100017", "NOPE"])

    assert (done.status, done.raw_status, done.voucher) == (Status.COMPLETED, "success", "0412987654321098")
    assert (done.number, done.service_id, done.charge) == ("081234567890", "S10", Decimal(10650))
    assert done.created_at == datetime.fromtimestamp(1774527037, tz=UTC)
    assert (missing.found, missing.status, missing.error) == (False, Status.UNKNOWN, "Transaction not found.")


def test_status_of_another_ref_id_in_the_reply(adapter, mocked):
    reply(mocked, "status_waiting.json")

    [result] = adapter.fetch_statuses(["OSM25030100017"])

    assert (result.found, result.error) == (False, "no transaction with this ref_id in the reply")


def test_status_auth_error_is_raised(adapter, mocked):
    reply(mocked, "error_401.json", status=401)

    with pytest.raises(ProviderRejected, match="Invalid API key or signature"):
        adapter.fetch_statuses(["OSM25030100017"])


@pytest.mark.parametrize(("limit", "sent"), [(15, "15"), (50, "15"), (0, "1"), (5, "5")])
def test_recent_orders_clamp_the_limit_and_send_no_ref_id(adapter, mocked, limit, sent):
    reply(mocked, "status_recent.json", type="status", limit=sent)

    recent = adapter.recent_orders(limit)

    assert "ref_id" not in form(mocked.calls[0])
    assert [(r.external_id, r.status) for r in recent] == [
        ("OSM25030100019", Status.FAILED),
        ("OSM25030100018", Status.PENDING),
        ("OSM25030100017", Status.COMPLETED),
    ]
    assert recent[0].number == "081234567899"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("waiting", Status.PENDING),
        ("pending", Status.PENDING),
        ("processing", Status.PROCESSING),
        ("process", Status.PROCESSING),
        ("success", Status.COMPLETED),
        ("sukses", Status.COMPLETED),
        ("failed", Status.FAILED),
        ("gagal", Status.FAILED),
        ("error", Status.FAILED),
        ("canceled", Status.FAILED),
        ("refund", Status.FAILED),
    ],
)
def test_status_table(adapter, raw, status):
    assert adapter.map_status(raw) is status


def test_capabilities(adapter):
    assert adapter.effective_capabilities() == {Capability.SERVICES, Capability.RECENT_ORDERS}
