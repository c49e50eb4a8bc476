from __future__ import annotations

import json
from decimal import Decimal
from unittest import mock

import pytest

from providers.sandbox.models import Fault, FaultScope, SandboxOrder
from providers.sandbox.protocols.virtusim import virtusim_services
from tests.providers.sandbox.helpers import balance_of, osimesa_sign

URL = "/sandbox/virtusim/json.php"


@pytest.fixture
def make_faulty(make_account):
    def make(fault: str, scope: str = FaultScope.ALL, kind: str = "virtusim", **fields):
        return make_account(kind, fault=fault, fault_scope=scope, fault_delay_seconds=7, **fields)

    return make


def order(client, account):
    service = next(s for s in virtusim_services() if s["tersedia"] != "0")
    return client.get(URL, {"api_key": account.api_key, "action": "order", "service": service["id"]})


@pytest.mark.parametrize(("fault", "status"), [(Fault.TIMEOUT, 504), (Fault.HTML502, 502)])
def test_gateway_faults_do_nothing(client, make_faulty, fault, status):
    account = make_faulty(fault)
    with mock.patch("providers.sandbox.faults.time.sleep") as sleep:
        response = order(client, account)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert b"<center>nginx</center>" in response.content and str(status).encode() in response.content
    assert sleep.call_args_list == ([mock.call(7)] if fault == Fault.TIMEOUT else [])
    assert not SandboxOrder.objects.exists() and balance_of(account) == Decimal("100000")


def test_invalid_json_after_doing_the_action(client, make_faulty):
    account = make_faulty(Fault.INVALID_JSON)
    response = order(client, account)
    assert response.status_code == 200 and response.content
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert SandboxOrder.objects.count() == 1 and balance_of(account) < Decimal("100000")


def test_empty_after_doing_the_action(client, make_faulty):
    account = make_faulty(Fault.EMPTY)
    response = order(client, account)
    assert (response.status_code, response.content) == (200, b"")
    assert SandboxOrder.objects.count() == 1


def test_wrong_types(client, make_faulty):
    account = make_faulty(Fault.WRONG_TYPES)
    assert order(client, account).json() == {"status": True, "data": "oops"}
    assert SandboxOrder.objects.count() == 1


def test_lose_reply_acts_then_sleeps_then_replies(client, make_faulty):
    account = make_faulty(Fault.LOSE_REPLY)

    def sleeping(seconds: float) -> None:
        assert SandboxOrder.objects.count() == 1  # the order exists before the reply goes out
        assert seconds == 7

    with mock.patch("providers.sandbox.faults.time.sleep", side_effect=sleeping) as sleep:
        body = order(client, account).json()
    assert sleep.called and body["status"] is True


def test_scope_order_spares_status_actions(client, make_faulty):
    account = make_faulty(Fault.HTML502, FaultScope.ORDER)
    assert order(client, account).status_code == 502
    status = client.get(URL, {"api_key": account.api_key, "action": "active_order"})
    services = client.get(URL, {"api_key": account.api_key, "action": "services"})
    assert status.json() == {"status": True, "data": []} and services.json()["status"] is True


def test_scope_status_spares_placement(client, make_faulty):
    account = make_faulty(Fault.HTML502, FaultScope.STATUS)
    order_id = order(client, account).json()["data"]["id"]
    for action in ("status", "active_order"):
        assert client.get(URL, {"api_key": account.api_key, "action": action, "id": order_id}).status_code == 502
    assert client.get(URL, {"api_key": account.api_key, "action": "services"}).status_code == 200


def test_scope_all_covers_everything_but_bad_credentials(client, make_faulty):
    account = make_faulty(Fault.HTML502)
    assert client.get(URL, {"api_key": account.api_key, "action": "services"}).status_code == 502
    assert client.get(URL, {"api_key": "wrong", "action": "services"}).json()["data"]["msg"] == "API Key salah"


def test_wrong_types_per_vendor(client, make_faulty):
    smm = make_faulty(Fault.WRONG_TYPES, kind="smm_v2")
    assert client.post("/sandbox/smm_v2/api", {"key": smm.api_key, "action": "balance"}).json()["balance"] == "lots"

    raja = make_faulty(Fault.WRONG_TYPES, kind="rajasms")
    body = client.post(
        "/sandbox/rajasms/sms/api_sms_reguler_balance_json.php", {"apikey": raja.api_key}, "application/json"
    ).json()
    assert body["balance_respon"] == "oops"

    osi = make_faulty(Fault.WRONG_TYPES, kind="osimesa")
    body = client.post(
        "/sandbox/osimesa/api/prepaid", {"key": osi.api_key, "sign": osimesa_sign(osi), "type": "service"}
    ).json()
    assert body["data"] == "oops"

    masking = make_faulty(Fault.WRONG_TYPES, kind="masking_http")
    reply = client.get(
        "/sandbox/masking_http/send.php",
        {"username": masking.username, "password": masking.password, "hp": "6281234567890", "message": "x"},
    )
    assert not reply.content.decode().isdigit() and SandboxOrder.objects.filter(account=masking).count() == 1


def test_invalid_json_for_plain_text_vendor(client, make_faulty):
    masking = make_faulty(Fault.INVALID_JSON, FaultScope.STATUS, kind="masking_http")
    login = {"username": masking.username, "password": masking.password}
    rpt = client.get("/sandbox/masking_http/send.php", {**login, "hp": "6281234567890", "message": "x"})
    reply = client.get("/sandbox/masking_http/report.php", {"rpt": rpt.content.decode()}).content
    with pytest.raises(ValueError):
        json.loads(reply)
    assert not reply.decode().isdigit()
