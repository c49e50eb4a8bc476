from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.sandbox.models import SandboxOrder
from providers.sandbox.protocols.virtusim import VIRTUSIM_DEFAULT_SIZE, virtusim_services
from tests.providers.sandbox.helpers import balance_of, rewind

URL = "/sandbox/virtusim/json.php"


@pytest.fixture
def account(make_account):
    return make_account("virtusim", otp_delay_seconds=20)


def call(client, account, method: str = "get", **params):
    return getattr(client, method)(URL, {"api_key": account.api_key, **params}).json()


def first_in_stock() -> dict[str, str]:
    return next(s for s in virtusim_services() if s["tersedia"] != "0")


def test_services_shape_with_string_numbers(client, account):
    body = call(client, account, action="services", country="indo")
    assert body["status"] is True
    assert len(body["data"]) == VIRTUSIM_DEFAULT_SIZE
    item = body["data"][0]
    assert set(item) == {"id", "name", "price", "tersedia", "category"}
    assert all(isinstance(item[k], str) for k in item)
    assert item["price"].isdigit() and item["tersedia"].isdigit()
    assert {"Twitter", "Lazada", "WhatsApp", "Telegram", "Shopee"} <= {s["name"] for s in body["data"]}


def test_wrong_key_and_unknown_action(client, account):
    assert client.get(URL, {"api_key": "nope", "action": "services"}).json() == {
        "status": False,
        "data": {"msg": "API Key salah"},
    }
    assert call(client, account, action="dance") == {
        "status": False,
        "data": {"msg": "Permintaan tidak sesuai"},
    }


def test_order_charges_and_otp_arrives_after_delay(client, account):
    service = first_in_stock()
    body = call(client, account, action="order", service=service["id"], operator="telkomsel")
    assert body["status"] is True
    data = body["data"]
    assert data["number"].startswith("62812") and data["operator"] == "telkomsel"
    assert data["service_id"] == service["id"] and data["service_name"] == service["name"]
    assert balance_of(account) == Decimal("100000") - Decimal(service["price"])

    waiting = call(client, account, action="active_order")["data"]
    assert [(o["id"], o["status"], o["otp"], o["sms"]) for o in waiting] == [
        (data["id"], "Pending", "Waiting SMS Code", "")
    ]
    assert call(client, account, action="status", id=data["id"])["data"]["status"] == "Pending"

    rewind(21, account=account)
    active = call(client, account, action="active_order")["data"][0]
    assert active["status"] == "Otp Diterima"
    assert re.search(r"\d{4,8}", active["otp"]) and active["otp"] == active["sms"]
    status = call(client, account, action="status", id=data["id"])["data"]
    assert status == {
        "id": data["id"],
        "status": "Processing",
        "number": data["number"],
        "sms": active["sms"],
        "service_name": service["name"],
    }


def test_post_works_like_get(client, account):
    body = call(client, account, method="post", action="order", service=first_in_stock()["id"])
    assert body["status"] is True and body["data"]["operator"] in ("telkomsel", "indosat", "axis")


def test_order_errors(client, make_account):
    account = make_account("virtusim", balance=Decimal("100"))
    empty = next(s for s in virtusim_services() if s["tersedia"] == "0")
    assert call(client, account, action="order", service="9999")["data"]["msg"] == "Layanan tidak ditemukan"
    assert call(client, account, action="order", service=empty["id"])["data"]["msg"] == "Layanan tidak tersedia"
    assert call(client, account, action="order")["data"]["msg"] == "Permintaan tidak sesuai"
    body = call(client, account, action="order", service=first_in_stock()["id"], operator="smartfren")
    assert body["data"]["msg"] == "Permintaan tidak sesuai"
    assert call(client, account, action="order", service=first_in_stock()["id"]) == {
        "status": False,
        "data": {"msg": "Saldo tidak cukup"},
    }
    assert not SandboxOrder.objects.exists()


def test_cancel_before_code_refunds_and_leaves_active_order(client, account):
    order_id = call(client, account, action="order", service=first_in_stock()["id"])["data"]["id"]
    body = call(client, account, action="set_status", id=order_id, status="2")
    assert body["status"] is True and body["data"]["id"] == order_id
    assert balance_of(account) == Decimal("100000")
    assert call(client, account, action="active_order")["data"] == []
    assert call(client, account, action="status", id=order_id)["data"]["status"] == "Error"
    again = call(client, account, action="set_status", id=order_id, status="2")
    assert again["status"] is False and again["msg"] == "Gagal Cancel"
    assert balance_of(account) == Decimal("100000")


def test_cancel_after_code_fails_then_done(client, account):
    order_id = call(client, account, action="order", service=first_in_stock()["id"])["data"]["id"]
    rewind(30, account=account)
    body = call(client, account, action="set_status", id=order_id, status="2")
    assert body["status"] is False and body["msg"] == "Gagal Cancel"
    assert set(body["data"]) == {"id", "number", "service_name"}
    done = call(client, account, action="set_status", id=order_id, status="4")
    assert done["status"] is True
    assert call(client, account, action="status", id=order_id)["data"]["status"] == "Success"
    assert call(client, account, action="active_order")["data"] == []
    assert balance_of(account) < Decimal("100000")


def test_ready_and_resend(client, account):
    order_id = call(client, account, action="order", service=first_in_stock()["id"])["data"]["id"]
    ready = call(client, account, action="set_status", id=order_id, status="1")
    assert ready == {"status": True, "msg": "Berhasil menunggu sms masuk", "data": ready["data"]}
    assert call(client, account, action="active_order")["data"][0]["status"] == "Ready"
    assert call(client, account, action="set_status", id=order_id, status="3")["status"] is False

    rewind(25, account=account)
    first_sms = call(client, account, action="status", id=order_id)["data"]["sms"]
    assert call(client, account, action="set_status", id=order_id, status="3")["status"] is True
    assert call(client, account, action="status", id=order_id)["data"]["sms"] == first_sms  # until the new one
    rewind(25, account=account)
    second_sms = call(client, account, action="status", id=order_id)["data"]["sms"]
    assert second_sms and second_sms != first_sms


def test_set_status_bad_requests(client, account):
    assert call(client, account, action="set_status", id="1", status="9")["data"]["msg"] == ("Permintaan tidak sesuai")
    missing = call(client, account, action="set_status", id="12345", status="2")
    assert missing["status"] is False and missing["msg"] == "Pesanan tidak ditemukan"
    assert call(client, account, action="status", id="12345") == {
        "status": False,
        "data": {"msg": "Pesanan tidak ditemukan"},
    }


def test_never_arriving_code_expires_with_refund(client, make_account):
    account = make_account("virtusim", otp_delay_seconds=-1)
    order_id = call(client, account, action="order", service=first_in_stock()["id"])["data"]["id"]
    rewind(29 * 60, account=account)
    assert call(client, account, action="status", id=order_id)["data"]["status"] == "Pending"
    rewind(2 * 60, account=account)
    assert call(client, account, action="status", id=order_id)["data"]["status"] == "Error"
    assert balance_of(account) == Decimal("100000")


def test_orders_are_private_to_their_account(client, account, make_account):
    other = make_account("virtusim")
    order_id = call(client, account, action="order", service=first_in_stock()["id"])["data"]["id"]
    assert call(client, other, action="status", id=order_id)["data"]["msg"] == "Pesanan tidak ditemukan"
    assert call(client, other, action="active_order")["data"] == []


def test_too_many_open_numbers_is_jumlah_pesan_tidak_sesuai(client, account):
    from providers.sandbox.protocols.virtusim import MAX_OPEN_NUMBERS

    SandboxOrder.objects.bulk_create(
        SandboxOrder(account=account, external_id=f"x{i}", created_at=timezone.now()) for i in range(MAX_OPEN_NUMBERS)
    )
    before = balance_of(account)
    reply = call(client, account, action="order", service=first_in_stock()["id"], operator="any")
    assert reply == {"status": False, "data": {"msg": "Jumlah pesan tidak sesuai"}}
    assert balance_of(account) == before  # refused: nothing charged
    SandboxOrder.objects.filter(external_id="x0").update(closed_status="Success")
    assert call(client, account, action="order", service=first_in_stock()["id"], operator="any")["status"] is True


def test_status_words_are_only_the_documents(client, account):
    """`status&id=` says Pending, Processing, Error or Success; `active_order` Pending, Ready, Otp Diterima."""
    seen_status, seen_active = set(), set()
    ids = [call(client, account, action="order", service=first_in_stock()["id"])["data"]["id"] for _ in range(4)]
    call(client, account, action="set_status", id=ids[1], status="1")
    for order_id in ids:
        seen_status.add(call(client, account, action="status", id=order_id)["data"]["status"])
    seen_active |= {item["status"] for item in call(client, account, action="active_order")["data"]}
    call(client, account, action="set_status", id=ids[2], status="2")  # canceled -> Error
    rewind(25, account=account)  # the codes arrive
    seen_status |= {call(client, account, action="status", id=i)["data"]["status"] for i in ids}
    seen_active |= {item["status"] for item in call(client, account, action="active_order")["data"]}
    call(client, account, action="set_status", id=ids[3], status="4")
    seen_status.add(call(client, account, action="status", id=ids[3])["data"]["status"])
    assert seen_status == {"Pending", "Processing", "Error", "Success"}
    assert seen_active == {"Pending", "Ready", "Otp Diterima"}
