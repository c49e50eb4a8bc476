from __future__ import annotations

import json
import logging
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import responses
from responses import matchers

from providers.adapters.errors import ProviderBadResponse, ProviderNotSupported, ProviderRejected
from providers.adapters.smm_v2 import SmmV2Adapter
from providers.adapters.types import Capability, OrderRequest, ProductKind, Status

from .conftest import API_KEY, URLS, fixture_json, form, make_adapter

URL = URLS["smm_v2"]
KIND = "smm_v2"
ERRORS = [
    "error_invalid_api_key.json",
    "error_incorrect_request.json",
    "error_incorrect_service_id.json",
    "error_quantity_min.json",
    "error_quantity_max.json",
    "error_not_enough_funds.json",
    "error_incorrect_link.json",
]
ADD = OrderRequest(kind=ProductKind.SMM, service_id="1205", link="https://instagram.com/akun", quantity=1000)


@pytest.fixture
def adapter() -> SmmV2Adapter:
    return make_adapter(KIND)


@pytest.fixture
def basic() -> SmmV2Adapter:
    """A provider that speaks only the four documented actions."""
    return make_adapter(KIND, options={"extended": False})


def reply(mocked: responses.RequestsMock, name: str, **fields: str) -> None:
    match = [matchers.header_matcher({"Authorization": f"Bearer {API_KEY}"})]
    if fields:
        match.append(matchers.urlencoded_params_matcher({"key": API_KEY, **fields}))
    mocked.post(URL, json=fixture_json(KIND, name), match=match)


# --- services ------------------------------------------------------------------------------------
def test_services_sends_key_in_form_and_bearer_header(adapter, mocked):
    reply(mocked, "services.json", action="services")

    services = adapter.fetch_services()

    first, tiktok, youtube = services
    assert first.external_id == "64a1b2c3d4e5f6g7h8i9j0k1"  # ids need not be numeric
    assert (first.name, first.category, first.kind) == ("Instagram Followers", "Instagram", ProductKind.SMM)
    assert (first.cost, first.min_qty, first.max_qty) == (Decimal("15000"), 100, 10000)
    assert (first.can_refill, first.can_cancel) == (True, True)
    assert (tiktok.external_id, tiktok.cost, tiktok.max_qty) == ("1205", Decimal("1455.50"), 5_000_000)
    assert (tiktok.can_refill, tiktok.can_cancel) == (False, True)  # "0" / "1"
    assert (youtube.can_refill, youtube.can_cancel) == (False, False)  # flags missing
    assert youtube.raw["desc"] == "ignored"


def test_service_with_a_non_numeric_rate_names_the_field(adapter, mocked):
    reply(mocked, "services_wrong_types.json")

    with pytest.raises(ProviderBadResponse, match=r"services\[1\]\.rate: expected a number, got 'abc'"):
        adapter.fetch_services()


def test_services_reply_that_is_not_a_list(adapter, mocked):
    reply(mocked, "balance.json")

    with pytest.raises(ProviderBadResponse, match="services: expected a list"):
        adapter.fetch_services()


# --- add -----------------------------------------------------------------------------------------
def test_add_posts_service_link_quantity(adapter, mocked):
    reply(mocked, "add.json", action="add", service="1205", link="https://instagram.com/akun", quantity="1000")

    placed = adapter.place_order(ADD)

    assert (placed.external_id, placed.status, placed.raw_status) == ("VEGA123ABC", Status.PENDING, "")


@pytest.mark.parametrize("fixture", ERRORS)
def test_add_errors_are_rejections_with_vendor_text(adapter, mocked, fixture):
    reply(mocked, fixture)

    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(ADD)

    assert caught.value.message == fixture_json(KIND, fixture)["error"]


def test_wrong_types_in_add_reply(adapter, mocked):
    reply(mocked, "wrong_types.json")

    with pytest.raises(ProviderBadResponse, match=r"order: expected an id, got \['oops'\]"):
        adapter.place_order(ADD)


@pytest.mark.parametrize(
    "request_",
    [
        OrderRequest(kind=ProductKind.SMM, service_id="1", link="https://x.test/a", quantity=0),
        OrderRequest(kind=ProductKind.SMM, service_id="1", link="", quantity=100),
        OrderRequest(kind=ProductKind.SMM, service_id="", link="https://x.test/a", quantity=100),
    ],
)
def test_incomplete_add_is_a_programming_error(adapter, mocked, request_):
    with pytest.raises(ValueError):
        adapter.place_order(request_)
    assert len(mocked.calls) == 0


# --- status --------------------------------------------------------------------------------------
def test_single_status_when_not_extended(basic, mocked):
    reply(mocked, "status.json", action="status", order="VEGA123ABC")

    [result] = basic.fetch_statuses(["VEGA123ABC"])

    assert (result.external_id, result.status, result.raw_status) == ("VEGA123ABC", Status.COMPLETED, "Completed")
    assert (result.charge, result.start_count, result.remains) == (Decimal("15000"), 1000, 0)
    assert result.raw["currency"] == "IDR"


def test_single_status_unknown_order_is_not_found(basic, mocked):
    reply(mocked, "status.json", action="status", order="1")
    reply(mocked, "error_incorrect_order_id.json", action="status", order="2")

    ok, missing = basic.fetch_statuses(["1", "2"])

    assert ok.found is True
    assert (missing.found, missing.status, missing.error) == (False, Status.UNKNOWN, "Incorrect order ID")


def test_single_status_account_error_is_raised(basic, mocked):
    reply(mocked, "error_invalid_api_key.json", action="status", order="1")

    with pytest.raises(ProviderRejected, match="Invalid API key"):
        basic.fetch_statuses(["1"])


def test_single_status_with_wrong_types(basic, mocked):
    reply(mocked, "wrong_types.json")

    with pytest.raises(ProviderBadResponse, match="status: expected text, got 5"):
        basic.fetch_statuses(["1"])


def test_multi_status_reads_each_id(adapter, mocked):
    reply(mocked, "status_multi.json", action="status", orders="101,102,103")

    running, partial, missing = adapter.fetch_statuses(["101", "102", "103"])

    assert (running.status, running.raw_status, running.remains, running.charge) == (
        Status.PROCESSING,
        "In progress",
        400,
        Decimal("1455.50"),
    )
    assert (partial.status, partial.remains, partial.start_count) == (Status.PARTIAL, 333, 120)
    assert (missing.external_id, missing.found, missing.error) == ("103", False, "Incorrect order ID")


def test_250_ids_take_three_calls_of_at_most_100(adapter, mocked):
    def answer(request):
        ids = dict(parse_qsl(request.body))["orders"].split(",")
        body = {i: {"charge": "10", "start_count": "5", "status": "Pending", "remains": "100"} for i in ids}
        return 200, {}, json.dumps(body)

    mocked.add_callback(responses.POST, URL, callback=answer)
    ids = [str(n) for n in range(1000, 1250)]

    results = adapter.fetch_statuses(ids)

    sizes = [len(form(call)["orders"].split(",")) for call in mocked.calls]
    assert sizes == [100, 100, 50]
    assert [r.external_id for r in results] == ids
    assert {r.status for r in results} == {Status.PENDING}


def test_an_id_the_reply_omits_is_skipped_not_declared_missing(adapter, mocked, caplog):
    mocked.post(URL, json={"101": fixture_json(KIND, "status.json")})

    results = adapter.fetch_statuses(["101", "102"])

    assert [r.external_id for r in results] == ["101"]
    assert "order 102 missing from the status reply" in caplog.text


def test_multi_status_reply_without_any_requested_id(adapter, mocked):
    reply(mocked, "wrong_types.json")

    with pytest.raises(ProviderBadResponse, match="none of the 2 requested ids"):
        adapter.fetch_statuses(["101", "102"])


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Pending", Status.PENDING),
        ("Processing", Status.PROCESSING),
        ("In progress", Status.PROCESSING),
        ("Completed", Status.COMPLETED),
        ("Partial", Status.PARTIAL),
        ("Canceled", Status.CANCELED),
        ("Refunded", Status.CANCELED),
        ("Error", Status.FAILED),
    ],
)
def test_status_table(adapter, raw, status):
    assert adapter.map_status(raw) is status


def test_unmapped_status_is_still_running_and_logged(adapter, caplog):
    caplog.set_level(logging.WARNING)
    assert adapter.map_status("Queued") is Status.PROCESSING
    assert "unmapped vendor status 'Queued'" in caplog.text


# --- balance, refill, cancel ---------------------------------------------------------------------
def test_balance(adapter, mocked):
    reply(mocked, "balance.json", action="balance")

    balance = adapter.fetch_balance()

    assert (balance.amount, balance.currency) == (Decimal("500000.00"), "IDR")


def test_balance_wrong_types(adapter, mocked):
    reply(mocked, "wrong_types.json")

    with pytest.raises(ProviderBadResponse, match="balance: expected a number, got 'lots'"):
        adapter.fetch_balance()


def test_refill_and_refill_status(adapter, mocked):
    reply(mocked, "refill.json", action="refill", order="101")
    reply(mocked, "refill_status.json", action="refill_status", refill="5501")

    refill = adapter.refill("101")
    status = adapter.refill_status(refill.refill_id)

    assert refill.refill_id == "5501"
    assert (status.refill_id, status.status) == ("5501", "Completed")


def test_refill_refused(adapter, mocked):
    reply(mocked, "error_incorrect_order_id.json", action="refill", order="999")

    with pytest.raises(ProviderRejected, match="Incorrect order ID"):
        adapter.refill("999")


def test_cancel(adapter, mocked):
    reply(mocked, "cancel.json", action="cancel", orders="101")

    result = adapter.cancel("101")

    assert result.ok is True and result.raw["cancel"] == 1


def test_cancel_refused_per_order(adapter, mocked):
    reply(mocked, "cancel_error.json", action="cancel", orders="103")

    with pytest.raises(ProviderRejected, match="Incorrect order ID"):
        adapter.cancel("103")


def test_cancel_reply_for_another_order(adapter, mocked):
    reply(mocked, "cancel.json", action="cancel", orders="555")

    with pytest.raises(ProviderBadResponse, match="no entry for order 555"):
        adapter.cancel("555")


# --- extended switch -----------------------------------------------------------------------------
def test_extended_actions_are_capabilities_by_default(adapter):
    for capability in (Capability.MULTI_STATUS, Capability.REFILL, Capability.REFILL_STATUS, Capability.CANCEL):
        assert adapter.has(capability)


@pytest.mark.parametrize("value", [False, "false", "0"])
def test_extended_off_removes_the_optional_actions(mocked, value):
    adapter = make_adapter(KIND, options={"extended": value})

    assert adapter.effective_capabilities() == {Capability.SERVICES, Capability.BALANCE}
    for call in (lambda: adapter.refill("1"), lambda: adapter.refill_status("1"), lambda: adapter.cancel("1")):
        with pytest.raises(ProviderNotSupported):
            call()
    assert len(mocked.calls) == 0


# --- every documented status, from recorded replies ----------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "raw", "status", "remains"),
    [
        ("status_pending.json", "Pending", Status.PENDING, 1000),
        ("status_processing.json", "Processing", Status.PROCESSING, 1000),
        ("status_in_progress.json", "In progress", Status.PROCESSING, 400),
        ("status.json", "Completed", Status.COMPLETED, 0),
        ("status_partial.json", "Partial", Status.PARTIAL, 333),
        ("status_canceled.json", "Canceled", Status.CANCELED, 1000),
        ("status_error.json", "Error", Status.FAILED, 1000),
        ("status_refunded.json", "Refunded", Status.CANCELED, 1000),  # refunded in full, like a cancel
    ],
)
def test_every_documented_status_from_a_recorded_reply(basic, mocked, fixture, raw, status, remains):
    reply(mocked, fixture, action="status", order="42")

    [result] = basic.fetch_statuses(["42"])

    assert (result.raw_status, result.status, result.remains) == (raw, status, remains)


# --- currency ------------------------------------------------------------------------------------
def test_a_status_in_another_currency_is_refused(basic, mocked):
    reply(mocked, "status_currency_usd.json", action="status", order="42")

    with pytest.raises(ProviderBadResponse) as caught:
        basic.fetch_statuses(["42"])

    assert caught.value.message == "currency: USD, but this provider's currency is IDR"
    assert caught.value.provider == "smm_v2-test"


def test_one_entry_in_another_currency_refuses_the_whole_batch(adapter, mocked):
    """Nothing of the reply is applied: the account's money changed, so no figure of it can be trusted."""
    reply(mocked, "status_multi_currency_usd.json", action="status", orders="101,102")

    with pytest.raises(ProviderBadResponse, match=r"102\.currency: USD"):
        adapter.fetch_statuses(["101", "102"])


def test_the_providers_own_currency_is_accepted(mocked):
    usd = make_adapter(KIND, options={"extended": False}, currency="usd")
    reply(mocked, "status_currency_usd.json", action="status", order="42")
    reply(mocked, "status.json", action="status", order="43")

    [result] = usd.fetch_statuses(["42"])
    assert (result.status, result.remains) == (Status.PARTIAL, 500)
    with pytest.raises(ProviderBadResponse, match="currency: IDR, but this provider's currency is USD"):
        usd.fetch_statuses(["43"])


def test_a_status_without_currency_is_read(basic, mocked):
    mocked.post(URL, json={"charge": "10", "start_count": "5", "status": "Completed", "remains": "0"})

    [result] = basic.fetch_statuses(["42"])

    assert result.status is Status.COMPLETED


def test_balance_names_its_currency(adapter, mocked):
    reply(mocked, "balance_usd.json", action="balance")

    balance = adapter.fetch_balance()

    assert (balance.amount, balance.currency) == (Decimal("12.50"), "USD")


# --- service type --------------------------------------------------------------------------------
def test_service_type_is_read_as_sent(adapter, mocked):
    reply(mocked, "services_types.json", action="services")

    types = [s.service_type for s in adapter.fetch_services()]

    assert types == ["Default", "Custom Comments", "Package", ""]  # absent: empty, not invented
