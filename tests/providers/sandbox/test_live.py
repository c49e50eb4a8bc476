"""Real HTTP against `live_server`: requests in, delivery callbacks out through timer threads."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from providers.sandbox.models import DlrState, SandboxOrder
from providers.sandbox.protocols.virtusim import virtusim_services

TIMEOUT = (3, 10)


def wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_virtusim_and_smm_over_real_http(live_server, make_account):
    otp = make_account("virtusim", otp_delay_seconds=0)
    service = next(s for s in virtusim_services() if s["tersedia"] != "0")
    url = f"{live_server.url}/sandbox/virtusim/json.php"
    placed = requests.get(
        url, params={"api_key": otp.api_key, "action": "order", "service": service["id"]}, timeout=TIMEOUT
    ).json()
    assert placed["status"] is True
    active = requests.get(url, params={"api_key": otp.api_key, "action": "active_order"}, timeout=TIMEOUT).json()
    assert active["data"][0]["status"] == "Otp Diterima"

    smm = make_account("smm_v2")
    smm_url = f"{live_server.url}/sandbox/smm_v2/api"
    balance = requests.post(
        smm_url, data={"action": "balance"}, headers={"Authorization": f"Bearer {smm.api_key}"}, timeout=TIMEOUT
    )
    assert balance.json() == {"balance": "100000.00", "currency": "IDR"}


@pytest.mark.django_db(transaction=True)
def test_rajasms_delivery_callback_arrives(live_server, make_account, receiver):
    callback, received = receiver
    account = make_account("rajasms", dlr_delay_seconds=0, balance=Decimal("1000"))
    reply = requests.post(
        f"{live_server.url}/sandbox/rajasms/sms/api_sms_reguler_send_json.php",
        json={
            "apikey": account.api_key,
            "callbackurl": callback,
            "datapacket": [{"number": "081234567890", "message": "Halo", "sendingdatetime": ""}],
        },
        timeout=TIMEOUT,
    ).json()
    packet = reply["sending_respon"][0]["datapacket"][0]["packet"]
    assert packet["sendingstatus"] == 10

    method, _, body = received.get(timeout=10)
    assert method == "POST"
    assert json.loads(body) == {
        "sendingid": packet["sendingid"],
        "number": "6281234567890",
        "deliverystatus": 3,
        "deliverystatustext": "Delivered Success",
    }
    assert wait_for(lambda: SandboxOrder.objects.get().dlr_state == DlrState.SENT)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("hp", "code", "message", "reply"),
    [
        ("6281234567894", "50", "Insufficient Credit Balance", "50 Saldo Habis"),
        ("6281234567896", "51", "Expiration Period", "50 Periode Habis"),
        ("6281234567895", "52", "No Charge", "50 No Charge"),
    ],
)
def test_masking_delivery_callback_arrives(live_server, make_account, receiver, hp, code, message, reply):
    callback, received = receiver
    account = make_account("masking_http", dlr_delay_seconds=0, callback_url=callback)
    rpt = requests.post(
        f"{live_server.url}/sandbox/masking_http/send_post.php",
        data={"username": account.username, "password": account.password, "hp": hp, "message": "x"},
        timeout=TIMEOUT,
    ).text
    assert rpt.isdigit()
    method, path, _ = received.get(timeout=10)
    assert method == "GET"
    query = parse_qs(urlsplit(path).query)
    assert (query["session_id"], query["error_code"], query["error_message"]) == ([rpt], [code], [message])
    report = requests.get(f"{live_server.url}/sandbox/masking_http/report.php", params={"rpt": rpt}, timeout=TIMEOUT)
    assert report.text == reply  # report.php says 50 for each, with the reason
