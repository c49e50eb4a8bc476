"""`POST /api/prepaid`, Osimesa-compatible: key + md5 signature, service / order / status, the vendor's
codes in the body and the status line."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.selectors import balance_of, ledger_violations
from accounts.services import apikey_revoke, apikey_rotate
from orders.models import Order
from orders.placement import order_place
from providers.adapters.errors import ProviderRejected
from providers.adapters.types import Status
from tests.api.conftest import START

pytestmark = pytest.mark.django_db


def refused(response, code: int, message: str) -> None:
    assert response.status_code == code
    assert response.json() == {"code": code, "status": False, "message": message, "data": None}


def buy(api, who, service, data_no="081234567890") -> dict:
    reply = api.osimesa(who, type="order", service=str(service.pk), data_no=data_no)
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_service_list(api, api_user, catalogue, upstream):
    reply = api.osimesa(api_user, type="service").json()
    assert (reply["code"], reply["status"], reply["message"]) == (200, True, "Success.")
    by_code = {item["code"]: item for item in reply["data"]}
    assert set(by_code) == {str(s.pk) for s in (catalogue.prepaid, catalogue.prepaid_empty, catalogue.prepaid_cutoff)}
    item = by_code[str(catalogue.prepaid.pk)]
    price = int(catalogue.price(catalogue.prepaid, api_user.user))
    assert item["category"] == {"type": "pulsa", "main": "TELKOMSEL", "sub": "Pulsa Reguler"}
    assert item["price"] == {"list": {"standar": price, "premium": price, "spesial": price}, "current": price}
    assert (item["name"], item["status"], item["multi"]) == ("Telkomsel 5.000", "ready", "1")
    assert item["cutoff"] == {"start": "00:00", "end": "00:00"}
    assert isinstance(item["updated_at"], int)
    assert by_code[str(catalogue.prepaid_empty.pk)]["status"] == "empty"
    cutoff = by_code[str(catalogue.prepaid_cutoff.pk)]["cutoff"]
    assert cutoff["start"] != cutoff["end"]


def test_order_then_status(api, api_user, catalogue, upstream):
    reply = buy(api, api_user, catalogue.prepaid, "0812-3456-7890")
    order = Order.objects.get()
    assert reply["message"] == "Thank you for purchasing the product, please wait for the transaction to be processed."
    assert reply["data"] == {
        "data": ["081234567890"],
        "note": "Transaction is being processed.",
        "price": int(order.charge),
        "ref_id": str(order.pk),
        "status": "waiting",
        "product": {"code": str(catalogue.prepaid.pk), "type": "pulsa", "service": "Telkomsel 5.000"},
        "voucher": "",
    }
    assert balance_of(api_user.user) == START - order.charge and order.source == "api"

    upstream.set_status("5000", Status.COMPLETED, "success", voucher="1234567890123456")
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=30))
    status = api.osimesa(api_user, type="status", ref_id=str(order.pk)).json()
    assert status["code"] == 200 and len(status["data"]) == 1
    item = status["data"][0]
    assert (item["status"], item["voucher"], item["note"]) == ("success", "1234567890123456", "Transaction success.")
    assert isinstance(item["created_at"], int) and isinstance(item["updated_at"], int)


def test_failed_transaction_is_refunded_and_reported(api, api_user, catalogue, upstream):
    buy(api, api_user, catalogue.prepaid)
    order = Order.objects.get()
    upstream.set_status("5000", Status.FAILED, "failed")
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=30))
    item = api.osimesa(api_user, type="status", ref_id=str(order.pk)).json()["data"][0]
    assert (item["status"], item["voucher"]) == ("failed", "")
    assert balance_of(api_user.user) == START and ledger_violations() == []


def test_status_lists_the_latest_first_within_the_limit(api, api_user, other_user, catalogue, upstream):
    ids = [buy(api, api_user, catalogue.prepaid)["data"]["ref_id"] for _ in range(3)]
    buy(api, other_user, catalogue.prepaid)
    listed = api.osimesa(api_user, type="status").json()["data"]
    assert [item["ref_id"] for item in listed] == ids[::-1]
    listed = api.osimesa(api_user, type="status", limit="2").json()["data"]
    assert [item["ref_id"] for item in listed] == ids[:0:-1]


@pytest.mark.parametrize("limit", ["0", "16", "abc", "-1", "1.5"])
def test_status_limit_out_of_range(api, api_user, catalogue, upstream, limit):
    refused(api.osimesa(api_user, type="status", limit=limit), 400, "The limit must be between 1 and 15.")


def test_status_of_unknown_or_foreign_transactions(api, api_user, other_user, catalogue, upstream):
    theirs = buy(api, other_user, catalogue.prepaid)["data"]["ref_id"]
    for ref_id in (theirs, "OSM100001", "99999"):
        refused(api.osimesa(api_user, type="status", ref_id=ref_id), 404, "Transaction not found.")
    smm = order_place(api_user.user, kind="smm", service=catalogue.smm, link="https://instagram.com/x", quantity=100)
    refused(api.osimesa(api_user, type="status", ref_id=str(smm.pk)), 404, "Transaction not found.")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"service": ""}, "The service and data_no parameters are required."),
        ({"data_no": ""}, "The service and data_no parameters are required."),
        ({"service": "TSEL5"}, "Product not found."),
        ({"service": "424242"}, "Product not found."),
        ({"data_no": "12"}, "Invalid destination number."),
        ({"data_no": "abcdefghij"}, "Invalid destination number."),
    ],
)
def test_order_malformed(api, api_user, catalogue, upstream, fields, message):
    form = {"service": str(catalogue.prepaid.pk), "data_no": "081234567890", **fields}
    refused(api.osimesa(api_user, type="order", **form), 400, message)
    assert not Order.objects.exists() and upstream.calls == []


def test_order_out_of_stock_in_cutoff_and_without_balance(api, api_user, make_reseller, catalogue, upstream):
    refused(
        api.osimesa(api_user, type="order", service=str(catalogue.prepaid_empty.pk), data_no="081234567890"),
        400,
        "Product is out of stock.",
    )
    service = catalogue.prepaid_cutoff
    window = f"{service.cutoff_start:%H:%M} - {service.cutoff_end:%H:%M}"
    refused(
        api.osimesa(api_user, type="order", service=str(service.pk), data_no="081234567890"),
        400,
        f"Product is in cutoff time ({window} WIB).",
    )
    poor = make_reseller("miskin", deposit=1000)
    key = apikey_rotate(poor)
    sign = hashlib.md5(f"{poor.pk}{key}".encode()).hexdigest()
    response = api.client.post(
        "/api/prepaid",
        {"key": key, "sign": sign, "type": "order", "service": str(catalogue.prepaid.pk), "data_no": "081234567890"},
    )
    refused(response, 400, "Insufficient balance.")
    assert not Order.objects.exists()


def test_order_refused_upstream_fails_and_refunds(api, api_user, catalogue, upstream):
    """The order is answered `waiting` before the provider is asked; its refusal then shows as failed."""
    upstream.place.append(ProviderRejected("Product is out of stock."))
    reply = api.osimesa(api_user, type="order", service=str(catalogue.prepaid.pk), data_no="081234567890").json()
    ref_id = reply["data"]["ref_id"]
    assert Order.objects.get().status == "failed" and balance_of(api_user.user) == START
    status = api.osimesa(api_user, type="status", ref_id=ref_id).json()["data"][0]
    assert (status["status"], status["note"]) == ("failed", "Transaction failed, balance refunded.")


@pytest.mark.parametrize("type_", ["", "orders", "balance", "SERVICE"])
def test_unknown_type(api, api_user, type_):
    refused(api.osimesa(api_user, type=type_), 400, "Invalid type.")


def test_signature_and_key_checks(api, api_user, other_user, catalogue):
    invalid = "Invalid API key or signature."
    refused(api.osimesa(api_user, sign="0" * 32, type="service"), 401, invalid)
    refused(api.osimesa(api_user, sign="", type="service"), 401, invalid)
    refused(api.osimesa(api_user, sign=other_user.sign, type="service"), 401, invalid)
    refused(api.osimesa(None, type="service"), 401, invalid)
    assert api.osimesa(api_user, sign=api_user.sign.upper(), type="service").status_code == 200
    apikey_revoke(api_user.user)
    refused(api.osimesa(api_user, type="service"), 401, invalid)


def test_get_is_refused(api, api_user):
    response = api.client.get("/api/prepaid", {"key": api_user.key, "sign": api_user.sign, "type": "service"})
    refused(response, 405, "Method not allowed, use POST.")


def test_status_refresh_is_throttled(api, api_user, catalogue, upstream):
    ref_id = buy(api, api_user, catalogue.prepaid)["data"]["ref_id"]
    Order.objects.filter(pk=ref_id).update(updated_at=timezone.now() - timedelta(seconds=30))
    api.osimesa(api_user, type="status", ref_id=ref_id)
    api.osimesa(api_user, type="status", ref_id=ref_id)
    assert upstream.count("statuses") == 1
    cache.clear()
    api.osimesa(api_user, type="status")
    assert upstream.count("statuses") == 2
