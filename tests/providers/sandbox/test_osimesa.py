from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from unittest import mock

import pytest

from providers.sandbox.common import WIB
from providers.sandbox.models import SandboxOrder
from providers.sandbox.protocols.osimesa import OSIMESA_DEFAULT_SIZE, osimesa_products
from tests.providers.sandbox.helpers import balance_of, osimesa_sign, rewind

URL = "/sandbox/osimesa/api/prepaid"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=WIB)


@pytest.fixture
def account(make_account):
    return make_account("osimesa", prepaid_delay_seconds=10, balance=Decimal("500000"))


def call(client, account, expect: int = 200, **data):
    response = client.post(URL, {"key": account.api_key, "sign": osimesa_sign(account), **data})
    assert response.status_code == expect
    return response.json()


def product(status: str = "ready", cutoff: bool = False) -> dict:
    return next(
        p
        for p in osimesa_products()
        if p["status"] == status and (p["cutoff"]["start"] != p["cutoff"]["end"]) == cutoff
    )


def test_service_list_shape(client, account):
    body = call(client, account, type="service")
    assert (body["code"], body["status"], body["message"]) == (200, True, "Success.")
    items = body["data"]
    assert len(items) == OSIMESA_DEFAULT_SIZE
    assert {i["category"]["main"] for i in items} >= {"TELKOMSEL", "INDOSAT", "XL", "AXIS", "TRI"}
    assert {i["category"]["type"] for i in items} == {"pulsa-reguler", "paket-internet", "e-money"}
    first = items[0]
    assert set(first) == {"category", "multi", "name", "note", "code", "price", "cutoff", "status", "updated_at"}
    assert set(first["price"]["list"]) == {"standar", "premium", "spesial"}
    assert isinstance(first["price"]["current"], int)
    assert any(i["status"] == "empty" for i in items)
    assert any(i["cutoff"]["start"] != i["cutoff"]["end"] for i in items)


def test_bad_signature(client, account):
    response = client.post(URL, {"key": account.api_key, "sign": "0" * 32, "type": "service"})
    assert response.status_code == 401
    assert response.json() == {"code": 401, "status": False, "message": "Invalid API key or signature.", "data": None}


def test_order_waits_then_succeeds_with_voucher(client, account):
    item = product()
    body = call(client, account, type="order", service=item["code"], data_no="081234567890")
    data = body["data"]
    assert body["status"] is True and body["message"].startswith("Thank you for purchasing")
    assert (data["status"], data["data"], data["price"], data["voucher"]) == (
        "waiting",
        ["081234567890"],
        item["price"]["current"],
        "",
    )
    assert data["product"] == {"code": item["code"], "type": item["category"]["type"], "service": item["name"]}
    assert balance_of(account) == Decimal("500000") - item["price"]["current"]

    listed = call(client, account, type="status", ref_id=data["ref_id"])["data"]
    assert len(listed) == 1 and listed[0]["status"] == "waiting"
    assert isinstance(listed[0]["created_at"], int) and isinstance(listed[0]["updated_at"], int)
    rewind(11, account=account)
    done = call(client, account, type="status", ref_id=data["ref_id"])["data"][0]
    assert done["status"] == "success" and len(done["voucher"]) == 16
    assert done["updated_at"] > done["created_at"]


def test_target_ending_99_fails_and_refunds(client, account):
    item = product()
    ref = call(client, account, type="order", service=item["code"], data_no="081234567899")["data"]["ref_id"]
    rewind(11, account=account)
    failed = call(client, account, type="status", ref_id=ref)["data"][0]
    assert (failed["status"], failed["voucher"]) == ("failed", "")
    assert balance_of(account) == Decimal("500000")


def test_status_without_ref_lists_latest_first(client, account):
    item = product()
    refs = [
        call(client, account, type="order", service=item["code"], data_no=f"08123456780{i}")["data"]["ref_id"]
        for i in range(3)
    ]
    assert [t["ref_id"] for t in call(client, account, type="status", limit="2")["data"]] == refs[::-1][:2]
    assert len(call(client, account, type="status")["data"]) == 3
    call(client, account, expect=400, type="status", limit="16")
    missing = call(client, account, expect=404, type="status", ref_id="OSM0")
    assert (missing["code"], missing["status"], missing["data"]) == (404, False, None)


def test_order_errors(client, make_account):
    account = make_account("osimesa", balance=Decimal("10"))
    ready = product()

    def error(**data) -> str:
        body = call(client, account, expect=400, type="order", **data)
        assert (body["code"], body["status"], body["data"]) == (400, False, None)
        return body["message"]

    assert error(service="NOPE", data_no="081234567890") == "Product not found."
    assert error(service=product("empty")["code"], data_no="081234567890") == "Product is out of stock."
    assert error(service=ready["code"], data_no="12ab") == "Invalid destination number."
    assert error(service=ready["code"], data_no="081234567890") == "Insufficient balance."
    assert error(service=ready["code"]) == "The service and data_no parameters are required."
    assert call(client, account, expect=400, type="dance")["message"] == "Invalid type."
    assert not SandboxOrder.objects.exists()


def test_cutoff_window_blocks_orders(client, account):
    item = product(cutoff=True)
    start = datetime.combine(NOON.date(), datetime.strptime(item["cutoff"]["start"], "%H:%M").time(), WIB)
    with mock.patch("django.utils.timezone.now", return_value=start):
        body = call(client, account, expect=400, type="order", service=item["code"], data_no="081234567890")
    assert body["message"].startswith("Product is in cutoff time")
    with mock.patch("django.utils.timezone.now", return_value=NOON):
        call(client, account, type="order", service=item["code"], data_no="081234567890")
