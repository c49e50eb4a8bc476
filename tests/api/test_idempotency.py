"""Idempotency-Key (and the Osimesa / RajaSMS client reference fields) on the four order-creating calls:
a retry with the same key and request replays the first reply and charges once; another request with the
same key is refused; refusals are not kept; keys are per reseller and live 24 h."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import balance_of, ledger_violations
from accounts.services import wallet_credit
from orders.api import idempotency
from orders.models import IdempotentRequest, Order
from orders.tasks import purge_idempotency_keys
from providers.adapters.errors import ProviderRejected
from tests.api.conftest import START

pytestmark = pytest.mark.django_db

KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
LINK = "https://instagram.com/tokoku"


def smm_add(client, who, catalogue, key: str | None = KEY, quantity: str = "1000", **extra):
    headers = {"Idempotency-Key": key} if key is not None else {}
    data = {"key": who.key, "action": "add", "service": str(catalogue.smm.pk), "link": LINK, "quantity": quantity}
    return client.post("/api/v2", {**data, **extra}, headers=headers)


def charges(user) -> int:
    return LedgerEntry.objects.filter(wallet__user=user, kind="charge").count()


# --- SMM v2 add: the replay, and what is refused --------------------------------------------------------------
def test_a_retry_replays_the_first_reply_and_charges_once(client, api_user, catalogue, upstream):
    first = smm_add(client, api_user, catalogue)
    assert first.status_code == 200 and first.json()["success"] is True
    assert "Idempotent-Replayed" not in first
    order = Order.objects.get()
    for _ in range(3):
        again = smm_add(client, api_user, catalogue)
        assert (again.status_code, again.content, again["Content-Type"]) == (200, first.content, first["Content-Type"])
        assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and charges(api_user.user) == 1
    assert balance_of(api_user.user) == START - order.charge
    assert ledger_violations() == []


def test_the_key_in_a_bearer_header_or_the_form_is_the_same_request(client, api_user, catalogue, upstream):
    first = smm_add(client, api_user, catalogue)
    data = {"action": "add", "service": str(catalogue.smm.pk), "link": LINK, "quantity": "1000"}
    again = client.post(
        "/api/v2", data, headers={"Idempotency-Key": f'"{KEY}"', "Authorization": f"Bearer {api_user.key}"}
    )
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_the_same_key_with_another_request_is_refused(client, api_user, catalogue, upstream):
    smm_add(client, api_user, catalogue)
    other = smm_add(client, api_user, catalogue, quantity="2000")
    assert other.status_code == 409
    assert other.json() == {"error": "Idempotency-Key was already used for a different request"}
    assert Order.objects.count() == 1 and charges(api_user.user) == 1
    assert balance_of(api_user.user) == START - Order.objects.get().charge


def test_without_a_key_every_call_is_an_order(client, api_user, catalogue, upstream):
    smm_add(client, api_user, catalogue, key=None)
    smm_add(client, api_user, catalogue, key=None)
    assert Order.objects.count() == 2 and not IdempotentRequest.objects.exists()


@pytest.mark.parametrize("bad", ["x" * 256, "spasi di tengah", "kunci-é", 'a"b', "a\\b", "tab\tkey"])
def test_a_bad_key_is_refused_and_nothing_is_charged(client, api_user, catalogue, upstream, bad):
    response = smm_add(client, api_user, catalogue, key=bad)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid Idempotency-Key"}
    assert not Order.objects.exists() and balance_of(api_user.user) == START


def test_a_key_of_255_visible_characters_is_fine(client, api_user, catalogue, upstream):
    key = ("!#$%&'()*+,-./:;<=>?@[]^_`{|}~" + "A" * 255)[:255]
    assert smm_add(client, api_user, catalogue, key=key).json()["success"] is True
    assert smm_add(client, api_user, catalogue, key=key)["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_a_refused_first_call_is_not_kept_so_the_key_can_be_retried(client, make_reseller, catalogue, upstream):
    from accounts.services import apikey_rotate
    from tests.api.conftest import Reseller

    user = make_reseller("tipis", deposit=1000)
    poor = Reseller(user, apikey_rotate(user))
    refused = smm_add(client, poor, catalogue)
    assert refused.json() == {"error": "Not enough funds on balance"}
    assert not IdempotentRequest.objects.exists()
    wallet_credit(user=user, amount=Decimal("100000"), reason="top-up", actor=None)
    placed = smm_add(client, poor, catalogue)
    assert placed.json()["success"] is True and "Idempotent-Replayed" not in placed
    assert smm_add(client, poor, catalogue)["Idempotent-Replayed"] == "true"
    assert Order.objects.filter(user=user).count() == 1


def test_keys_are_per_reseller(client, api_user, other_user, catalogue, upstream):
    mine = smm_add(client, api_user, catalogue).json()
    theirs = smm_add(client, other_user, catalogue)
    assert "Idempotent-Replayed" not in theirs and theirs.json()["order"] != mine["order"]
    assert Order.objects.get(pk=theirs.json()["order"]).user == other_user.user
    # and another reseller's different request with the same key is theirs to make, not a conflict
    assert smm_add(client, other_user, catalogue, key="k2", quantity="3000").status_code == 200
    assert smm_add(client, api_user, catalogue, key="k2", quantity="500").status_code == 200


def test_the_header_is_ignored_by_calls_that_create_nothing(client, api_user, catalogue, upstream):
    headers = {"Idempotency-Key": "not a valid key"}
    balance = client.post("/api/v2", {"key": api_user.key, "action": "balance"}, headers=headers)
    assert balance.status_code == 200 and "balance" in balance.json()
    assert not IdempotentRequest.objects.exists()


def test_a_crash_after_the_charge_keeps_the_key_so_a_retry_cannot_charge_again(
    client, api_user, catalogue, upstream, monkeypatch
):
    from orders.api import smm_v2

    def accepted_then_crash(request):
        idempotency.accepted(request)
        raise RuntimeError("bug while answering")

    monkeypatch.setattr(smm_v2, "accepted", accepted_then_crash)
    first = smm_add(client, api_user, catalogue)
    assert first.status_code == 503
    monkeypatch.undo()
    again = smm_add(client, api_user, catalogue)
    assert again.status_code == 503 and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and charges(api_user.user) == 1


# --- expiry and the retry of a call still running ---------------------------------------------------------
def test_a_key_expires_after_24_hours(client, api_user, catalogue, upstream, settings):
    smm_add(client, api_user, catalogue)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = smm_add(client, api_user, catalogue, quantity="2000")  # a new request may now use the key
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert Order.objects.count() == 2 and IdempotentRequest.objects.count() == 1


def test_expired_keys_are_purged_by_the_hourly_task(client, api_user, catalogue, upstream):
    from orders.schedules import SCHEDULES

    smm_add(client, api_user, catalogue, key="old")
    smm_add(client, api_user, catalogue, key="new", quantity="2000")
    IdempotentRequest.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == "1 expired idempotency keys purged"
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
    assert any(d.func == "orders.tasks.purge_idempotency_keys" and d.minutes == 60 for d in SCHEDULES)


def test_a_retry_while_the_first_call_runs_is_told_so(client, api_user, catalogue, upstream, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0
    smm_add(client, api_user, catalogue)
    IdempotentRequest.objects.update(status_code=0, body=b"")  # as if the first call had not finished
    busy = smm_add(client, api_user, catalogue)
    assert busy.status_code == 409
    assert busy.json() == {"error": "A request with this Idempotency-Key is still in progress"}
    assert smm_add(client, api_user, catalogue, quantity="2000").status_code == 409  # a different body: reused
    assert Order.objects.count() == 1


# --- VirtuSIM order ------------------------------------------------------------------------------------------
def test_virtusim_order_is_placed_once(client, api_user, catalogue, upstream):
    params = {"api_key": api_user.key, "action": "order", "service": str(catalogue.otp.pk), "operator": "any"}
    first = client.get("/api/json.php", params, headers={"Idempotency-Key": KEY})
    assert first.json()["status"] is True
    again = client.get("/api/json.php", params, headers={"Idempotency-Key": KEY})
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert upstream.count("place") == 1 and Order.objects.count() == 1
    assert balance_of(api_user.user) == START - Order.objects.get().charge
    other = client.get("/api/json.php", {**params, "operator": "telkomsel"}, headers={"Idempotency-Key": KEY})
    assert other.status_code == 409
    assert other.json() == {"status": False, "data": {"msg": "Idempotency-Key sudah dipakai untuk permintaan lain"}}
    bad = client.get("/api/json.php", params, headers={"Idempotency-Key": "x" * 256})
    assert bad.status_code == 400 and bad.json()["data"]["msg"] == "Idempotency-Key tidak sesuai"


def test_virtusim_order_the_upstream_refused_is_not_kept(client, api_user, catalogue, upstream):
    params = {"api_key": api_user.key, "action": "order", "service": str(catalogue.otp.pk)}
    upstream.place.append(ProviderRejected("Layanan tidak tersedia"))
    refused = client.get("/api/json.php", params, headers={"Idempotency-Key": KEY})
    assert refused.json() == {"status": False, "data": {"msg": "Layanan tidak tersedia"}}
    assert not IdempotentRequest.objects.exists() and balance_of(api_user.user) == START
    placed = client.get("/api/json.php", params, headers={"Idempotency-Key": KEY})
    assert placed.json()["status"] is True and "Idempotent-Replayed" not in placed


# --- Osimesa order: the header or client_ref ----------------------------------------------------------------
def osimesa_order(client, who, catalogue, data_no="081234567890", headers=None, **extra):
    data = {"key": who.key, "sign": who.sign, "type": "order", "service": str(catalogue.prepaid.pk), "data_no": data_no}
    return client.post("/api/prepaid", {**data, **extra}, headers=headers or {})


def test_osimesa_client_ref_acts_as_the_key(client, api_user, catalogue, upstream):
    first = osimesa_order(client, api_user, catalogue, client_ref="INV-1001")
    assert first.json()["code"] == 200
    again = osimesa_order(client, api_user, catalogue, client_ref="INV-1001")
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    same_by_header = osimesa_order(client, api_user, catalogue, headers={"Idempotency-Key": "INV-1001"})
    assert same_by_header.content == first.content  # the header and the field are one key
    assert Order.objects.count() == 1
    assert balance_of(api_user.user) == START - Order.objects.get().charge
    other = osimesa_order(client, api_user, catalogue, data_no="081299998888", client_ref="INV-1001")
    assert other.status_code == 409
    assert other.json() == {
        "code": 409,
        "status": False,
        "message": "This Idempotency-Key or client_ref was already used for a different order.",
        "data": None,
    }
    assert osimesa_order(client, api_user, catalogue, client_ref="INV-1002").json()["code"] == 200
    assert Order.objects.count() == 2


def test_osimesa_a_header_and_a_client_ref_that_differ_are_refused(client, api_user, catalogue, upstream):
    response = osimesa_order(client, api_user, catalogue, client_ref="A-1", headers={"Idempotency-Key": "B-2"})
    assert response.status_code == 400 and response.json()["message"] == "Invalid Idempotency-Key or client_ref."
    assert not Order.objects.exists()


# --- RajaSMS send: the header or clientref -------------------------------------------------------------------
def raja_send(client, who, number="081234567890", headers=None, **extra):
    body = {
        "apikey": who.key,
        "callbackurl": "",
        "datapacket": [{"number": number, "message": "Halo", "sendingdatetime": ""}],
        **extra,
    }
    return client.post(
        "/sms/api_sms_reguler_send_json.php", json.dumps(body), content_type="application/json", headers=headers or {}
    )


@pytest.mark.parametrize("how", ["header", "clientref", "numeric clientref"])
def test_rajasms_send_is_placed_once(client, api_user, catalogue, upstream, how):
    ref = {"header": {}, "clientref": {"clientref": "batch-7"}, "numeric clientref": {"clientref": 7}}[how]
    headers = {"Idempotency-Key": "batch-7"} if how == "header" else None
    first = raja_send(client, api_user, headers=headers, **ref)
    assert first.json()["sending_respon"][0]["globalstatus"] == 10
    again = raja_send(client, api_user, headers=headers, **ref)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert balance_of(api_user.user) == START - Order.objects.get().charge
    other = raja_send(client, api_user, number="081311112222", headers=headers, **ref)
    assert other.status_code == 409
    assert other.json() == {
        "sending_respon": [
            {
                "globalstatus": 20,
                "globalstatustext": "Json Post Error: Idempotency-Key or clientref already used for another request",
            }
        ]
    }
    assert Order.objects.count() == 1


def test_rajasms_the_route_is_part_of_the_request(client, api_user, catalogue, upstream):
    raja_send(client, api_user, clientref="r-1")
    body = {"apikey": api_user.key, "clientref": "r-1", "datapacket": [{"number": "081234567890", "message": "Halo"}]}
    other = client.post("/sms/api_sms_otp_send_json.php", json.dumps(body), content_type="application/json")
    assert other.status_code == 409


@pytest.mark.parametrize("ref", [["a"], {"a": 1}, True, "x" * 256, ""])
def test_rajasms_a_wrong_typed_clientref(client, api_user, catalogue, upstream, ref):
    response = raja_send(client, api_user, clientref=ref)
    if ref == "":  # empty = no reference
        assert response.json()["sending_respon"][0]["globalstatus"] == 10
        return
    assert response.status_code == 400
    assert response.json()["sending_respon"][0]["globalstatus"] == 20
    assert not Order.objects.exists()


def test_rajasms_a_send_with_invalid_packets_is_not_kept(client, api_user, catalogue, upstream):
    refused = raja_send(client, api_user, number="12", clientref="r-2")
    assert refused.json()["sending_respon"][0]["globalstatus"] == 20
    assert not IdempotentRequest.objects.exists()
