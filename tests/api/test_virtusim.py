"""`/api/json.php`, VirtuSIM-compatible: every action, every refusal in the vendor's own words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.selectors import balance_of, ledger_violations
from accounts.services import apikey_revoke
from orders.models import Order
from providers.adapters.errors import ProviderRejected
from providers.adapters.types import Status
from providers.models import Service
from tests.api.conftest import START

pytestmark = pytest.mark.django_db


def fail(response, message: str, status: int = 200) -> None:
    assert response.status_code == status
    assert response.json() == {"status": False, "data": {"msg": message}}


def place(api, api_user, catalogue, **params) -> dict:
    reply = api.virtusim(api_user.key, action="order", service=str(catalogue.otp.pk), **params).json()
    assert reply["status"] is True, reply
    return reply["data"]


def age(order_id: int, seconds: int = 60) -> None:
    """Make an order stale, and forget the refresh throttle: as if some seconds had passed."""
    Order.objects.filter(pk=order_id).update(updated_at=timezone.now() - timedelta(seconds=seconds))
    cache.clear()


# --- services -----------------------------------------------------------------------------------------
def test_services_lists_otp_at_the_resellers_prices(api, api_user, catalogue, upstream):
    reply = api.virtusim(api_user.key, action="services", country="indo").json()
    assert reply["status"] is True
    by_id = {item["id"]: item for item in reply["data"]}
    assert set(by_id) == {str(catalogue.otp.pk), str(catalogue.otp_empty.pk)}
    item = by_id[str(catalogue.otp.pk)]
    price = catalogue.price(catalogue.otp, api_user.user)
    assert item == {
        "id": str(catalogue.otp.pk),
        "name": "WhatsApp",
        "price": str(int(price)),
        "tersedia": "50",
        "category": "OTP",
    }
    assert by_id[str(catalogue.otp_empty.pk)]["tersedia"] == "0"
    assert all(isinstance(v, str) for v in item.values())  # the vendor sends strings


def test_services_leaves_out_what_is_not_for_sale(api, api_user, catalogue, upstream):
    Service.objects.filter(pk=catalogue.otp_empty.pk).update(is_enabled=False)
    reply = api.virtusim(api_user.key, action="services").json()
    assert [item["id"] for item in reply["data"]] == [str(catalogue.otp.pk)]


# --- order --------------------------------------------------------------------------------------------
def test_order_places_through_the_same_service_as_the_web(api, api_user, catalogue, upstream):
    data = place(api, api_user, catalogue, operator="telkomsel")
    order = Order.objects.get(pk=int(data["id"]))
    assert data == {
        "id": str(order.pk),
        "number": "6281299990000",
        "operator": "telkomsel",
        "service_id": str(catalogue.otp.pk),
        "service_name": "WhatsApp",
    }
    assert (order.user, order.source, order.status, order.kind) == (api_user.user, "api", "pending", "otp")
    assert order.charge == catalogue.price(catalogue.otp, api_user.user)
    assert balance_of(api_user.user) == START - order.charge
    assert upstream.calls[0][2].operator == "telkomsel"


def test_order_operator_defaults_to_any(api, api_user, catalogue, upstream):
    data = place(api, api_user, catalogue)
    assert data["operator"] == "any"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Permintaan tidak sesuai"),
        ({"service": ""}, "Permintaan tidak sesuai"),
        ({"service": "abc"}, "Layanan tidak ditemukan"),
        ({"service": "999999"}, "Layanan tidak ditemukan"),
        ({"service": "OTP", "operator": "any"}, "Layanan tidak ditemukan"),
        ({"operator": "xl"}, "Permintaan tidak sesuai"),
    ],
)
def test_order_malformed(api, api_user, catalogue, upstream, params, message):
    params = {"service": str(catalogue.otp.pk), **params} if "service" not in params and params else params
    fail(api.virtusim(api_user.key, action="order", **params), message)
    assert not Order.objects.exists() and upstream.calls == []


def test_order_of_another_kind_is_not_found(api, api_user, catalogue, upstream):
    fail(api.virtusim(api_user.key, action="order", service=str(catalogue.smm.pk)), "Layanan tidak ditemukan")


def test_order_out_of_stock_is_unavailable(api, api_user, catalogue, upstream):
    fail(api.virtusim(api_user.key, action="order", service=str(catalogue.otp_empty.pk)), "Layanan tidak tersedia")


def test_order_without_balance(api, make_reseller, catalogue, upstream):
    from accounts.services import apikey_rotate

    poor = make_reseller("miskin", deposit=100)
    key = apikey_rotate(poor)
    fail(api.virtusim(key, action="order", service=str(catalogue.otp.pk)), "Saldo tidak cukup")
    assert balance_of(poor) == 100 and not Order.objects.exists()


def test_order_refused_upstream_is_refunded_and_reported(api, api_user, catalogue, upstream):
    upstream.place.append(ProviderRejected("Layanan tidak tersedia"))
    fail(api.virtusim(api_user.key, action="order", service=str(catalogue.otp.pk)), "Layanan tidak tersedia")
    order = Order.objects.get()
    assert order.status == "failed" and order.refunded == order.charge
    assert balance_of(api_user.user) == START and ledger_violations() == []


# --- status and active_order --------------------------------------------------------------------------
def test_status_and_active_order_follow_the_order(api, api_user, catalogue, upstream):
    data = place(api, api_user, catalogue)
    order_id = data["id"]
    status = api.virtusim(api_user.key, action="status", id=order_id).json()
    assert status == {
        "status": True,
        "data": {"id": order_id, "status": "Pending", "number": "6281299990000", "sms": "", "service_name": "WhatsApp"},
    }
    active = api.virtusim(api_user.key, action="active_order").json()
    assert active["data"] == [
        {
            "id": order_id,
            "status": "Ready",
            "number": "6281299990000",
            "otp": "Waiting SMS Code",
            "sms": "",
            "service_name": "WhatsApp",
        }
    ]

    sms = "123456 adalah kode verifikasi Anda"
    upstream.set_status("5000", Status.PROCESSING, "Otp Diterima", otp_code="123456", sms_text=sms)
    assert api.virtusim(api_user.key, action="status", id=order_id).json()["data"]["status"] == "Pending"  # fresh
    age(int(order_id))
    status = api.virtusim(api_user.key, action="status", id=order_id).json()["data"]
    assert (status["status"], status["sms"]) == ("Processing", sms)  # a stale active order is asked about
    active = api.virtusim(api_user.key, action="active_order").json()["data"][0]
    assert (active["status"], active["otp"], active["sms"]) == ("Otp Diterima", sms, sms)


def test_active_order_refreshes_stale_orders_in_one_batch(api, api_user, catalogue, upstream):
    first, second = place(api, api_user, catalogue)["id"], place(api, api_user, catalogue)["id"]
    upstream.set_status("5000", Status.PROCESSING, "Otp Diterima", otp_code="4321", sms_text="Kode 4321")
    upstream.set_status("5001", Status.CANCELED, "Cancel")
    age(int(first))
    age(int(second))
    active = api.virtusim(api_user.key, action="active_order").json()["data"]
    assert [(item["id"], item["status"]) for item in active] == [(first, "Otp Diterima")]
    assert upstream.count("statuses") == 1
    # The document's `status` words are Pending, Processing, Error, Success: a canceled number is Error.
    assert api.virtusim(api_user.key, action="status", id=second).json()["data"]["status"] == "Error"
    assert Order.objects.get(pk=second).refunded > 0


DOCUMENTED_STATUS_WORDS = {"Pending", "Processing", "Error", "Success"}


@pytest.mark.parametrize(
    ("status", "code", "word"),
    [
        ("submitting", "", "Pending"),
        ("unknown", "", "Pending"),
        ("pending", "", "Pending"),
        ("processing", "4321", "Processing"),
        ("completed", "4321", "Success"),
        ("partial", "4321", "Success"),
        ("failed", "", "Error"),
        ("canceled", "", "Error"),
        ("canceled", "4321", "Success"),  # the code arrived: the number was used, nothing refunded
        ("failed", "4321", "Success"),
    ],
)
def test_status_words_are_only_the_documents(api, api_user, catalogue, upstream, status, code, word):
    order_id = int(place(api, api_user, catalogue)["id"])
    Order.objects.filter(pk=order_id).update(status=status, otp_code=code)
    reply = api.virtusim(api_user.key, action="status", id=order_id).json()["data"]
    assert reply["status"] == word and word in DOCUMENTED_STATUS_WORDS


def test_final_orders_leave_the_active_list(api, api_user, catalogue, upstream):
    order_id = int(place(api, api_user, catalogue)["id"])
    for status in ("completed", "failed", "canceled"):
        Order.objects.filter(pk=order_id).update(status=status)
        assert api.virtusim(api_user.key, action="active_order").json() == {"status": True, "data": []}


@pytest.mark.parametrize("order_id", ["", "abc", "-1", "99999"])
def test_status_of_an_unknown_order(api, api_user, catalogue, upstream, order_id):
    fail(api.virtusim(api_user.key, action="status", id=order_id), "Pesanan tidak ditemukan")


def test_another_resellers_order_does_not_exist(api, api_user, other_user, catalogue, upstream):
    order_id = place(api, api_user, catalogue)["id"]
    fail(api.virtusim(other_user.key, action="status", id=order_id), "Pesanan tidak ditemukan")
    reply = api.virtusim(other_user.key, action="set_status", id=order_id, status="2").json()
    assert reply == {"status": False, "msg": "Pesanan tidak ditemukan", "data": {"msg": "Pesanan tidak ditemukan"}}
    assert api.virtusim(other_user.key, action="active_order").json()["data"] == []
    assert Order.objects.get(pk=order_id).status == "pending"


def test_orders_of_other_kinds_are_not_visible(api, api_user, catalogue, upstream):
    from orders.placement import order_place

    smm = order_place(api_user.user, kind="smm", service=catalogue.smm, link="https://instagram.com/x", quantity=100)
    fail(api.virtusim(api_user.key, action="status", id=smm.pk), "Pesanan tidak ditemukan")


# --- set_status -----------------------------------------------------------------------------------------
def test_set_status_ready_then_cancel_refunds(api, api_user, catalogue, upstream):
    order_id = place(api, api_user, catalogue)["id"]
    ready = api.virtusim(api_user.key, action="set_status", id=order_id, status="1").json()
    assert ready == {
        "status": True,
        "msg": "Berhasil menunggu sms masuk",
        "data": {"id": order_id, "number": "6281299990000", "service_name": "WhatsApp"},
    }
    assert upstream.count("ready") == 1  # forwarded upstream, not answered here
    cancel = api.virtusim(api_user.key, action="set_status", id=order_id, status="2").json()
    assert (cancel["status"], cancel["msg"]) == (True, "Berhasil membatalkan pesanan")
    order = Order.objects.get(pk=order_id)
    assert order.status == "canceled" and order.refunded == order.charge
    assert upstream.count("cancel") == 1
    assert balance_of(api_user.user) == START and ledger_violations() == []
    again = api.virtusim(api_user.key, action="set_status", id=order_id, status="2").json()
    assert (again["status"], again["msg"]) == (False, "Gagal Cancel")
    assert api.virtusim(api_user.key, action="set_status", id=order_id, status="1").json()["msg"] == "Gagal Ready"
    assert upstream.count("ready") == 1  # a closed order is not asked about


def test_ready_refused_upstream_is_gagal_ready(api, api_user, catalogue, upstream):
    order_id = place(api, api_user, catalogue)["id"]
    upstream.action_error = ProviderRejected("Gagal Ready")
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="1").json()
    assert reply == {
        "status": False,
        "msg": "Gagal Ready",
        "data": {"id": order_id, "number": "6281299990000", "service_name": "WhatsApp"},
    }
    assert upstream.count("ready") == 1
    order = Order.objects.get(pk=order_id)
    assert order.status == "pending" and order.refunded == 0


def test_ready_when_the_upstream_does_not_answer(api, api_user, catalogue, upstream):
    from providers.adapters.errors import ProviderOutcomeUnknown

    order_id = place(api, api_user, catalogue)["id"]
    upstream.action_error = ProviderOutcomeUnknown("no reply")
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="1")
    assert reply.status_code == 200 and (reply.json()["status"], reply.json()["msg"]) == (False, "Gagal Ready")
    assert Order.objects.get(pk=order_id).status == "pending"


def test_cancel_refused_once_the_code_arrived(api, api_user, catalogue, upstream):
    order_id = place(api, api_user, catalogue)["id"]
    upstream.set_status("5000", Status.PROCESSING, "Otp Diterima", otp_code="998877", sms_text="Kode 998877")
    age(int(order_id))
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="2").json()
    assert reply["status"] is False and reply["msg"] == "Gagal Cancel" and reply["data"]["id"] == order_id
    assert upstream.count("cancel") == 0  # the refresh saw the code first: nothing to ask
    assert Order.objects.get(pk=order_id).refunded == 0


def test_cancel_refused_upstream_is_gagal_cancel(api, api_user, catalogue, upstream):
    order_id = place(api, api_user, catalogue)["id"]
    upstream.action_error = ProviderRejected("Gagal Cancel")
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="2").json()
    assert (reply["status"], reply["msg"]) == (False, "Gagal Cancel")
    assert Order.objects.get(pk=order_id).status == "pending"


def test_resend_and_done_after_the_code(api, api_user, catalogue, upstream):
    order_id = place(api, api_user, catalogue)["id"]
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="3").json()
    assert (reply["status"], reply["msg"]) == (False, "Gagal Resend")  # nothing to resend yet
    upstream.set_status("5000", Status.PROCESSING, "Otp Diterima", otp_code="5555", sms_text="Kode 5555")
    age(int(order_id))
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="3").json()
    assert (reply["status"], reply["msg"]) == (True, "Berhasil meminta kirim ulang sms")
    reply = api.virtusim(api_user.key, action="set_status", id=order_id, status="4").json()
    assert (reply["status"], reply["msg"]) == (True, "Berhasil menyelesaikan pesanan")
    order = Order.objects.get(pk=order_id)
    assert order.status == "completed" and order.refunded == 0
    assert api.virtusim(api_user.key, action="status", id=order_id).json()["data"]["status"] == "Success"


@pytest.mark.parametrize("params", [{"status": "5"}, {"status": "x"}, {"status": ""}, {"id": ""}])
def test_set_status_malformed(api, api_user, catalogue, upstream, params):
    order_id = place(api, api_user, catalogue)["id"]
    fail(
        api.virtusim(api_user.key, action="set_status", **{"id": order_id, "status": "2", **params}),
        "Permintaan tidak sesuai",
    )


# --- transport and keys ---------------------------------------------------------------------------------
def test_post_works_like_get(api, api_user, catalogue, upstream):
    reply = api.virtusim(api_user.key, method="post", action="services").json()
    assert reply["status"] is True and len(reply["data"]) == 2


@pytest.mark.parametrize("action", ["", "saldo", "SERVICES"])
def test_unknown_action(api, api_user, catalogue, upstream, action):
    fail(api.virtusim(api_user.key, action=action), "Permintaan tidak sesuai")


def test_wrong_missing_and_revoked_keys(api, api_user, catalogue, upstream):
    fail(api.virtusim("x" * 48, action="services"), "API Key salah")
    fail(api.virtusim(None, action="services"), "API Key salah")
    fail(api.virtusim("short", action="services"), "API Key salah")
    apikey_revoke(api_user.user)
    fail(api.virtusim(api_user.key, action="services"), "API Key salah")


def test_other_methods_are_refused_in_the_protocols_form(api, api_user):
    response = api.client.put("/api/json.php")
    fail(response, "Permintaan tidak sesuai", 405)
