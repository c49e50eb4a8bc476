"""Every value the vendor documents list (tests/providers/documented_values.py) is produced by the sandbox,
and has a row in docs/provider-coverage.md.

The sandbox is driven over the test client, through each protocol's documented triggers (module docstrings
of providers/sandbox/protocols/), and what its replies actually say is collected per category: actions that
answered, fields present, status words, codes and messages seen. Delivery reports are taken from the
protocol's own `delivery_report` (what the DLR sender POSTs/GETs) for the orders the sends created.
A documented value neither observed nor in NOT_SIMULATED (with its reason) fails; so does an allow-listed
value that the sandbox does produce (the allow-list must stay true too).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from providers.sandbox.models import SandboxAccount, SandboxOrder
from providers.sandbox.protocols import masking_http, osimesa, rajasms, virtusim
from tests.providers.documented_values import DOCUMENTED
from tests.providers.sandbox.helpers import osimesa_sign, rewind

COVERAGE_DOC = Path(settings.BASE_DIR) / "docs" / "provider-coverage.md"

# (kind, category, value) -> why the sandbox does not produce it. Keep docs/provider-coverage.md in step.
NOT_SIMULATED: dict[tuple[str, str, str], str] = {
    ("rajasms", "balance globalstatus", "25"): "Error Check Balance: no trigger (docs/provider-notes.md, RajaSMS)",
    ("rajasms", "balance globalstatus", "35"): "Check Balance Limit: the sandbox has no rate limit",
    ("masking_http", "DLR code", "20"): (
        "the sandbox sends one DLR per SMS, at its final outcome; pending (20) is what report.php says before it"
    ),
}

Observed = dict[str, set[str]]


def _fields(obs: Observed, category: str, item: dict[str, Any]) -> None:
    obs[category].update(item)


def _nested(obs: Observed, category: str, item: dict[str, Any], prefix: str = "") -> None:
    """Dotted paths of the nested keys: price.list.standar, cutoff.start..."""
    for key, value in item.items():
        if isinstance(value, dict):
            for sub in value:
                obs[category].add(f"{prefix}{key}.{sub}")
            _nested(obs, category, value, f"{prefix}{key}.")


# --- VirtuSIM (000) ------------------------------------------------------------------------------
def drive_virtusim(client, make_account, monkeypatch) -> Observed:
    obs: Observed = defaultdict(set)
    url = "/sandbox/virtusim/json.php"
    account = make_account("virtusim", otp_delay_seconds=600)

    def call(**p: str) -> dict[str, Any]:
        response = client.get(url, p)
        assert response.status_code == 200, (p, response.status_code)
        reply = response.json()
        data = reply.get("data")
        for message in (reply.get("msg"), data.get("msg") if isinstance(data, dict) else None):
            if message:
                obs["message"].add(message)
        if reply["status"] is not False or p.get("action") == "set_status":
            obs["parameter"].update(p)
        return reply

    key = account.api_key
    services = call(api_key=key, action="services", country="indo")
    assert services["status"] is True
    obs["action"].add("services")
    _fields(obs, "services field", services["data"][0])
    in_stock = next(item["id"] for item in services["data"] if item["tersedia"] != "0")
    sold_out = next(item["id"] for item in services["data"] if item["tersedia"] == "0")

    ids = {}
    for operator in ("telkomsel", "indosat", "axis", "any"):
        placed = call(api_key=key, action="order", service=in_stock, operator=operator)
        assert placed["status"] is True, placed
        obs["action"].add("order")
        obs["operator"].add(operator)
        _fields(obs, "order field", placed["data"])
        ids[operator] = placed["data"]["id"]

    def status_word(order_id: str) -> str:
        reply = call(api_key=key, action="status", id=order_id)
        assert reply["status"] is True
        obs["action"].add("status")
        _fields(obs, "status field", reply["data"])
        obs["status word"].add(reply["data"]["status"])
        return reply["data"]["status"]

    def active() -> dict[str, dict[str, str]]:
        reply = call(api_key=key, action="active_order")
        assert reply["status"] is True
        obs["action"].add("active_order")
        for item in reply["data"]:
            _fields(obs, "active_order field", item)
            obs["active_order status"].add(item["status"])
            obs["otp text"].add(item["otp"])
        return {item["id"]: item for item in reply["data"]}

    def set_status(order_id: str, code: str) -> dict[str, Any]:
        reply = call(api_key=key, action="set_status", id=order_id, status=code)
        if reply.get("msg") != "Permintaan tidak sesuai":
            obs["set_status code"].add(code)
            obs["action"].add("set_status")
        return reply

    assert status_word(ids["telkomsel"]) == "Pending"
    active()
    assert set_status(ids["telkomsel"], "1")["status"] is True  # Berhasil menunggu sms masuk
    assert active()[ids["telkomsel"]]["status"] == "Ready"
    assert set_status(ids["indosat"], "2")["status"] is True  # no code yet: closed as Error, refunded
    assert status_word(ids["indosat"]) == "Error"

    rewind(700, account=account)  # the codes arrive
    assert status_word(ids["telkomsel"]) == "Processing"
    assert active()[ids["telkomsel"]]["status"] == "Otp Diterima"
    assert set_status(ids["telkomsel"], "2")["msg"] == "Gagal Cancel"  # a code is in: the number was used
    assert set_status(ids["telkomsel"], "3")["status"] is True  # resend
    assert set_status(ids["telkomsel"], "4")["status"] is True  # done
    assert status_word(ids["telkomsel"]) == "Success"

    # The documented failure messages, each by its trigger.
    call(api_key="wrong", action="services")  # API Key salah
    call(api_key=key, action="nope")  # Permintaan tidak sesuai
    call(api_key=key, action="order", service="99999")  # Layanan tidak ditemukan
    call(api_key=key, action="order", service=sold_out)  # Layanan tidak tersedia
    call(api_key=key, action="status", id="nope")  # Pesanan tidak ditemukan
    broke = make_account("virtusim", balance=Decimal("0"))
    call(api_key=broke.api_key, action="order", service=in_stock)  # Saldo tidak cukup
    monkeypatch.setattr(virtusim, "MAX_OPEN_NUMBERS", account.orders.filter(closed_status="").count())
    call(api_key=key, action="order", service=in_stock)  # Jumlah pesan tidak sesuai
    return obs


# --- SMM v2 (001) --------------------------------------------------------------------------------
def drive_smm_v2(client, make_account, monkeypatch) -> Observed:
    obs: Observed = defaultdict(set)
    url = "/sandbox/smm_v2/api"
    account = make_account("smm_v2", smm_step_seconds=100)

    def call(data: dict[str, str], **headers: str) -> Any:
        response = client.post(url, data, **headers)
        assert response.status_code == 200, (data, response.status_code)
        reply = response.json()
        assert not (isinstance(reply, dict) and "error" in reply), (data, reply)
        obs["action"].add(data["action"])
        obs["parameter"].update(data)
        return reply

    services = call({"key": account.api_key, "action": "services"})
    _fields(obs, "services field", services[0])
    item = services[0]
    balance = client.post(url, {"action": "balance"}, HTTP_AUTHORIZATION=f"Bearer {account.api_key}").json()
    assert "balance" in balance
    obs["parameter"].add("Authorization: Bearer")
    obs["action"].add("balance")
    _fields(obs, "balance field", balance)

    orders = []
    for word in ("plain", "processing", "partial", "cancel", "error", "refund"):
        fields = {"service": item["service"], "link": f"https://example.com/{word}", "quantity": item["min"]}
        placed = call({"key": account.api_key, "action": "add", **fields})
        _fields(obs, "add field", placed)
        orders.append(placed["order"])

    def statuses() -> None:
        for order_id in orders:
            reply = call({"key": account.api_key, "action": "status", "order": order_id})
            _fields(obs, "status field", reply)
            obs["status word"].add(reply["status"])

    statuses()  # Pending
    rewind(150, account=account)
    statuses()  # In progress / Processing
    rewind(100, account=account)
    statuses()  # Completed, Partial, Canceled, Error, Refunded
    return obs


# --- RajaSMS (002) -------------------------------------------------------------------------------
def drive_rajasms(client, make_account, monkeypatch) -> Observed:
    obs: Observed = defaultdict(set)
    send_url = "/sandbox/rajasms/sms/api_sms_{}_send_json.php"
    balance_url = "/sandbox/rajasms/sms/{}"

    def post(url: str, body: Any) -> list[dict[str, Any]]:
        raw = body if isinstance(body, str) else json.dumps(body)
        response = client.post(url, raw, content_type="application/json")
        assert response.status_code == 200, (url, response.status_code)
        return next(iter(response.json().values()))

    def send(account: SandboxAccount, packets: Iterable[tuple[str, str]], route: str = "reguler", **extra) -> Any:
        body = {
            "apikey": account.api_key,
            "callbackurl": "http://127.0.0.1:9/dlr",
            "datapacket": [{"number": n, "message": m, "sendingdatetime": ""} for n, m in packets],
            **extra,
        }
        respon = post(send_url.format(route), body)[0]
        obs["send globalstatus"].add(str(respon["globalstatus"]))
        for entry in respon.get("datapacket", []):
            packet = entry["packet"]
            obs["sendingstatus"].add(str(packet["sendingstatus"]))
            _fields(obs, "send field", packet)
        if respon["globalstatus"] == 10:
            obs["endpoint"].add(f"api_sms_{route}_send_json.php")
            _fields(obs, "send field", respon)
        return respon

    account = make_account("rajasms")
    for route in ("reguler", "masking", "otp"):
        send(account, [("081234567890", "Halo")], route)
    obs["send parameter"].update({"apikey", "callbackurl", "number", "message"})
    scheduled = {"number": "+6281234567891", "message": "Nanti", "sendingdatetime": "2099-01-01 10-00-00"}
    respon = post(send_url.format("reguler"), {"apikey": account.api_key, "datapacket": [scheduled]})[0]
    order = SandboxOrder.objects.get(external_id=str(respon["datapacket"][0]["packet"]["sendingid"]))
    if order.dlr_at and order.dlr_at.year == 2099:
        obs["send parameter"].add("sendingdatetime")
    assert order.callback_url == "" and SandboxOrder.objects.filter(account=account).exclude(callback_url="").exists()

    # sendingstatus 60 / 70 / 90 and deliverystatus 1-10 (numbers ending 99NN)
    packets = [("12345", "Halo"), ("081234567890", ""), ("6281234569990", "Halo")]
    packets += [(f"62812345699{code:02d}", "Halo") for code in range(1, 11)]
    send(account, packets)
    send(make_account("rajasms", balance=Decimal("0")), [("081234567890", "Halo")])  # 80
    for order in SandboxOrder.objects.filter(account=account):
        report = rajasms.PROTOCOL.delivery_report(order)
        _fields(obs, "callback field", report.payload)
        obs["deliverystatus"].add(str(report.payload["deliverystatus"]))

    # globalstatus of the whole request
    obs["send globalstatus"].add(str(post(send_url.format("reguler"), "not json")[0]["globalstatus"]))
    send(SandboxAccount(api_key="wrong"), [("081234567890", "Halo")])  # 30
    send(make_account("rajasms", allowed_ips="10.9.9.9"), [("081234567890", "Halo")])  # 40
    expired = make_account("rajasms", balance_expires_on=(timezone.now() - timedelta(days=2)).date())
    send(expired, [("081234567890", "Halo")])  # 50
    send(account, [("081234567890", "Halo")] * (rajasms.MAX_PACKETS + 1))  # 55

    def balance(key: str, endpoint: str = "api_sms_masking_balance_json.php", raw: str | None = None) -> None:
        respon = post(balance_url.format(endpoint), raw if raw is not None else {"apikey": key})[0]
        obs["balance globalstatus"].add(str(respon["globalstatus"]))
        if respon["globalstatus"] == 10:
            obs["endpoint"].add(endpoint)
            _fields(obs, "balance field", respon)

    balance(account.api_key)
    balance(account.api_key, "api_sms_reguler_balance_json.php")
    balance("", raw="not json")  # 20
    balance("wrong")  # 30
    balance(make_account("rajasms", allowed_ips="10.9.9.9").api_key)  # 40
    return obs


# --- masking_http (003) --------------------------------------------------------------------------
def drive_masking_http(client, make_account, monkeypatch) -> Observed:
    obs: Observed = defaultdict(set)
    base = "/sandbox/masking_http/"
    account = make_account("masking_http", dlr_delay_seconds=60)
    login = {"username": account.username, "password": account.password}

    def call(script: str, method: str = "get", **p: str) -> str:
        response = getattr(client, method)(base + script, {**login, **p} if script != "report.php" else p)
        assert response.status_code == 200, (script, response.status_code)
        text = response.content.decode()
        assert text.strip() and text.strip() != masking_http.BAD_LOGIN, (script, text)
        obs["endpoint"].add(script)
        obs["parameter"].update(p if script == "report.php" else {**login, **p})
        return text.strip()

    ids = []
    for i, last in enumerate("0456"):  # 22, 50 Saldo Habis, 51 Periode Habis, 52 No Charge
        report_id = call("send.php" if i % 2 else "send_post.php", "get" if i % 2 else "post",
                         hp=f"62812345678{last}", message="Halo")  # fmt: skip
        assert report_id.isdigit(), report_id
        ids.append(report_id)

    def reports() -> None:
        for report_id in ids:
            code, _, reason = call("report.php", rpt=report_id).partition(" ")
            obs["report code"].add(code)
            if reason:
                obs["report 50 reason"].add(reason)

    reports()  # 20 before the outcome
    rewind(120, account=account)
    reports()  # 22 / 50 <reason>
    for order in SandboxOrder.objects.filter(account=account):
        report = masking_http.PROTOCOL.delivery_report(order)
        _fields(obs, "DLR field", report.payload)
        obs["DLR code"].add(report.payload["error_code"])

    call("balance.php")
    today = timezone.localtime(timezone.now(), masking_http.WIB).strftime("%d-%m-%Y")
    table = call("reports_post.php", "post", start=today, end=today, download_report_button="Download")
    assert table.count("\n") >= len(ids)
    call("inbox.php")
    return obs


# --- Osimesa (004) -------------------------------------------------------------------------------
def drive_osimesa(client, make_account, monkeypatch) -> Observed:
    obs: Observed = defaultdict(set)
    url = "/sandbox/osimesa/api/prepaid"
    account = make_account("osimesa", balance=Decimal("1000000"), prepaid_delay_seconds=600)
    auth = {"key": account.api_key, "sign": osimesa_sign(account)}

    def call(**p: str) -> dict[str, Any]:
        response = client.post(url, {**auth, **p})
        reply = response.json()
        assert response.status_code == 200 and reply["status"] is True, (p, reply)
        obs["type"].add(p["type"])
        obs["parameter"].update({**auth, **p})
        obs["code"].add(str(reply["code"]))
        obs["message"].add(reply["message"])
        return reply

    products = call(type="service")["data"]
    for product in products:
        _fields(obs, "service field", product)
        _nested(obs, "service subfield", product)
        obs["service status"].add(product["status"])
    product = next(p for p in products if p["status"] == "ready" and p["cutoff"]["start"] == p["cutoff"]["end"])
    placed = call(type="order", service=product["code"], data_no="081234567890")
    _fields(obs, "order field", placed)
    _fields(obs, "order field", placed["data"])
    _nested(obs, "order subfield", placed["data"])
    obs["transaction status"].add(placed["data"]["status"])
    listed = call(type="status", ref_id=placed["data"]["ref_id"], limit="1")["data"]
    assert [t["ref_id"] for t in listed] == [placed["data"]["ref_id"]]
    for transaction in listed:
        _fields(obs, "status field", transaction)
        obs["transaction status"].add(transaction["status"])
    return obs


DRIVERS = {
    "virtusim": drive_virtusim,
    "smm_v2": drive_smm_v2,
    "rajasms": drive_rajasms,
    "masking_http": drive_masking_http,
    "osimesa": drive_osimesa,
}


def test_every_document_has_a_driver():
    assert set(DRIVERS) == set(DOCUMENTED)


@pytest.mark.parametrize("kind", sorted(DOCUMENTED))
def test_the_sandbox_produces_every_documented_value(kind, client, make_account, monkeypatch):
    observed = DRIVERS[kind](client, make_account, monkeypatch)
    missing, stale = [], []
    for category, values in DOCUMENTED[kind].items():
        for value in values:
            allowed = (kind, category, value) in NOT_SIMULATED
            seen = value in observed.get(category, set())
            if not seen and not allowed:
                missing.append(f"{category} {value!r}")
            if seen and allowed:
                stale.append(f"{category} {value!r} (allow-listed, but the sandbox produces it)")
    assert not missing, f"{kind}: documented but not produced by the sandbox: {missing}"
    assert not stale, f"{kind}: {stale}"


def test_every_allow_listed_value_is_documented():
    for kind, category, value in NOT_SIMULATED:
        assert value in DOCUMENTED[kind][category], (kind, category, value)


def test_the_virtusim_messages_are_the_sandbox_reply_texts():
    """The module's own texts, not a copy: the sandbox's constants and set_status labels name them."""
    labels = {f"Gagal {label}" for label in virtusim.SET_STATUS_LABEL.values()}
    assert "Gagal Cancel" in labels
    assert virtusim.OTP_WAITING == "Waiting SMS Code"


def test_the_rajasms_and_masking_tables_use_the_documented_texts():
    assert rajasms.RAJASMS_DELIVERY_TEXT == {
        1: "Schedule",
        2: "Sent",
        3: "Delivered Success",
        4: "Delivered Error",
        5: "System Failed",
        6: "Saldo Minus/Expired",
        7: "Reject",
        8: "System Error",
        9: "Duplicate message",
        10: "Delivered Success Backup",
    }
    assert set(masking_http.REPORT_50_TEXT.values()) == set(DOCUMENTED["masking_http"]["report 50 reason"])
    assert osimesa.ORDER_THANKS in DOCUMENTED["osimesa"]["message"]


# --- the table in docs/provider-coverage.md -------------------------------------------------------
def _first_cells(kind: str) -> list[str]:
    """First cells of the table rows in the document section whose heading names `kind` in backticks."""
    cells, inside = [], False
    for line in COVERAGE_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            inside = f"`{kind}`" in line
        elif inside and line.startswith("|") and not re.match(r"^\|\s*-", line):
            cells.append(line.split("|")[1].strip())
    return cells


@pytest.mark.parametrize("kind", sorted(DOCUMENTED))
def test_the_coverage_table_has_a_row_for_every_documented_value(kind):
    cells = _first_cells(kind)
    assert cells, f"docs/provider-coverage.md has no table under a heading naming `{kind}`"
    missing = [
        f"{category} `{value}`"
        for category, values in DOCUMENTED[kind].items()
        for value in values
        if not any(cell.startswith(f"{category} `") and f"`{value}`" in cell for cell in cells)
    ]
    assert not missing, f"docs/provider-coverage.md, `{kind}`: no row for {missing}"


def test_the_coverage_table_names_every_allow_listed_value_as_not_simulated():
    for kind, category, value in NOT_SIMULATED:
        rows = [
            line
            for line in COVERAGE_DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith(f"| {category} `") and f"`{value}`" in line.split("|")[1]
        ]
        assert any("not simulated" in row.split("|")[3].lower() for row in rows), (kind, category, value)
