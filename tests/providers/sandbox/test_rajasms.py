from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.sandbox.models import DlrState, SandboxOrder
from providers.sandbox.protocols import rajasms
from tests.providers.sandbox.helpers import balance_of

SEND = "/sandbox/rajasms/sms/api_sms_{}_send_json.php"
BALANCE = "/sandbox/rajasms/sms/api_sms_{}_balance_json.php"


@pytest.fixture
def account(make_account):
    return make_account("rajasms", balance=Decimal("1000"))


def post(client, url: str, body) -> dict:
    return client.post(url, body, content_type="application/json").json()


def packets(*pairs: tuple[str, str], when: str = "") -> list[dict[str, str]]:
    return [{"number": n, "message": m, "sendingdatetime": when} for n, m in pairs]


def test_send_per_packet_codes(client, account):
    body = post(
        client,
        SEND.format("reguler"),
        {
            "apikey": account.api_key,
            "callbackurl": "http://127.0.0.1:9/dlr",
            "datapacket": packets(
                ("081234567890", "Halo"),
                ("+6281234567894", "x" * 200),
                ("12345", "Halo"),
                ("6281234567890", ""),
            ),
        },
    )
    (reply,) = body["sending_respon"]
    assert (reply["globalstatus"], reply["globalstatustext"]) == (10, "Success")
    got = [p["packet"] for p in reply["datapacket"]]
    assert [(p["number"], p["sendingstatus"], p["sendingstatustext"]) for p in got] == [
        ("6281234567890", 10, "success"),
        ("6281234567894", 10, "success"),
        ("12345", 60, "Invalid Number"),
        ("6281234567890", 70, "Invalid Message"),
    ]
    assert [p["price"] for p in got] == [70, 140, 0, 0]  # 200 characters are two SMS
    assert isinstance(got[0]["sendingid"], int) and got[0]["sendingid"] != got[1]["sendingid"]
    assert balance_of(account) == Decimal("790")
    orders = {o.target: o for o in SandboxOrder.objects.all()}
    assert orders["6281234567890"].outcome == "3" and orders["6281234567894"].outcome == "4"
    assert all(o.dlr_state == DlrState.PENDING and o.callback_url for o in orders.values())


def test_routes_price_differently_and_minimum_balance(client, make_account):
    account = make_account("rajasms", balance=Decimal("300"))
    body = {"apikey": account.api_key, "datapacket": packets(("081234567890", "Kode 1234"), ("081234567891", "x"))}
    got = [p["packet"] for p in post(client, SEND.format("otp"), body)["sending_respon"][0]["datapacket"]]
    assert [(p["sendingstatus"], p["sendingstatustext"], p["price"]) for p in got] == [
        (10, "success", 250),
        (80, "Minimum Balance", 0),
    ]
    assert SandboxOrder.objects.get().dlr_state == DlrState.NONE  # no callbackurl given


def test_global_errors(client, account):
    url = SEND.format("masking")
    bad_json = client.post(url, "{not json", content_type="application/json").json()
    assert bad_json == {"sending_respon": [{"globalstatus": 20, "globalstatustext": "Json Post Error"}]}
    assert post(client, url, {"apikey": "nope", "datapacket": packets(("0812345678", "x"))}) == {
        "sending_respon": [{"globalstatus": 30, "globalstatustext": "ApiKey not register"}]
    }
    too_many = {"apikey": account.api_key, "datapacket": packets(*[("081234567890", "x")] * 1001)}
    assert post(client, url, too_many)["sending_respon"][0]["globalstatus"] == 55
    assert post(client, url, {"apikey": account.api_key})["sending_respon"][0]["globalstatus"] == 20


def test_scheduled_send_delays_the_report(client, account):
    body = {
        "apikey": account.api_key,
        "callbackurl": "http://x/",
        "datapacket": packets(("081234567890", "nanti"), when="2099-01-02 03-04-05"),
    }
    post(client, SEND.format("reguler"), body)
    order = SandboxOrder.objects.get()
    assert order.dlr_at.year == 2099 and order.dlr_at > order.created_at


@pytest.mark.parametrize("route", ["reguler", "masking", "otp"])
def test_balance(client, account, route):
    body = post(client, BALANCE.format(route), {"apikey": account.api_key})
    (reply,) = body["balance_respon"]
    assert reply["globalstatus"] == 10 and reply["globalstatustext"] == "Success"
    assert reply["Balance"] == 1000 and len(reply["Expired"]) == 10
    assert post(client, BALANCE.format(route), {"apikey": "x"}) == {
        "balance_respon": [{"globalstatus": 30, "globalstatustext": "ApiKey not register"}]
    }


# --- every documented code on purpose (the module docstring's table) ---------------------------------------
def test_system_error_packet_by_number(client, account):
    body = {"apikey": account.api_key, "datapacket": packets(("081234569990", "Halo"), ("081234567890", "Halo"))}
    got = [p["packet"] for p in post(client, SEND.format("reguler"), body)["sending_respon"][0]["datapacket"]]
    assert [(p["sendingstatus"], p["sendingstatustext"], p["price"], p["sendingid"]) for p in got[:1]] == [
        (90, "System Error", 0, 0)
    ]
    assert got[1]["sendingstatus"] == 10
    assert balance_of(account) == Decimal("930")  # only the accepted packet is charged
    assert SandboxOrder.objects.get().target == "6281234567890"


@pytest.mark.parametrize("code", range(1, 11))
def test_every_delivery_code_by_number(client, account, code):
    number = f"0812345699{code:02d}"  # ends in 99NN
    post(
        client,
        SEND.format("masking"),
        {"apikey": account.api_key, "callbackurl": "http://x/", "datapacket": packets((number, "Halo"))},
    )
    order = SandboxOrder.objects.get()
    assert order.outcome == str(code)
    assert order.refund == (order.cost if code in (6, 7, 9) else 0)  # never sent: the gateway gives it back
    report = rajasms.delivery_report(order).payload
    assert (report["deliverystatus"], report["deliverystatustext"]) == (code, rajasms.RAJASMS_DELIVERY_TEXT[code])


def test_refused_delivery_codes_come_back_to_the_balance(client, account):
    account.dlr_delay_seconds = 0
    account.save()
    body = {"apikey": account.api_key, "datapacket": packets(("081234569906", "Halo"), ("081234569904", "Halo"))}
    post(client, SEND.format("reguler"), body)
    assert balance_of(account) == Decimal("860")
    post(client, BALANCE.format("reguler"), {"apikey": account.api_key})  # settles what is due
    assert balance_of(account) == Decimal("930")  # 6 Saldo Minus/Expired refunded; 4 Delivered Error kept


def test_ip_not_registered(client, account):
    account.allowed_ips = "10.1.2.3, 10.1.2.4"
    account.save()
    body = {"apikey": account.api_key, "datapacket": packets(("081234567890", "Halo"))}
    assert post(client, SEND.format("reguler"), body) == {
        "sending_respon": [{"globalstatus": 40, "globalstatustext": "Ip address not register"}]
    }
    assert post(client, BALANCE.format("reguler"), {"apikey": account.api_key}) == {
        "balance_respon": [{"globalstatus": 40, "globalstatustext": "Ip address not register"}]
    }
    assert not SandboxOrder.objects.exists() and balance_of(account) == Decimal("1000")
    account.allowed_ips = "10.1.2.3,127.0.0.1"
    account.save()
    assert post(client, SEND.format("reguler"), body)["sending_respon"][0]["globalstatus"] == 10


def test_expired_balance_refuses_sends_and_shows_the_date(client, account):
    today = timezone.localdate()
    account.balance_expires_on = today - timedelta(days=1)
    account.save()
    body = {"apikey": account.api_key, "datapacket": packets(("081234567890", "Halo"))}
    assert post(client, SEND.format("otp"), body) == {
        "sending_respon": [{"globalstatus": 50, "globalstatustext": "Expired Balance"}]
    }
    assert not SandboxOrder.objects.exists() and balance_of(account) == Decimal("1000")
    reply = post(client, BALANCE.format("otp"), {"apikey": account.api_key})["balance_respon"][0]
    assert (reply["globalstatus"], reply["Expired"]) == (10, (today - timedelta(days=1)).isoformat())
    account.balance_expires_on = today  # valid through its last day
    account.save()
    assert post(client, SEND.format("otp"), body)["sending_respon"][0]["globalstatus"] == 10


def test_default_expiry_is_a_year_after_the_account_was_made(client, account):
    reply = post(client, BALANCE.format("reguler"), {"apikey": account.api_key})["balance_respon"][0]
    made = timezone.localtime(account.created_at, rajasms.WIB).date()
    assert reply["Expired"] == (made + timedelta(days=365)).isoformat()
