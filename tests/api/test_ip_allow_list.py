"""The optional IP allow-list of an API key: parsing, enforcement on every downstream call in each protocol's
form (RajaSMS globalstatus 40 "Ip address not register"), and the form on the reseller's API page."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey
from accounts.network import AllowListError, address_allowed, allow_list_parse
from accounts.selectors import balance_of
from accounts.services import AllowListInvalid, apikey_rotate, apikey_set_allowed_ips
from orders.models import Order
from tests.api.conftest import START

pytestmark = pytest.mark.django_db

OFFICE = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


# --- parsing ----------------------------------------------------------------------------------------------
def test_parse_normalizes_addresses_and_ranges():
    text = " 203.0.113.7, 198.51.100.0/24\n2001:DB8::1;2001:db8:abcd::/48\t203.0.113.7\r\n\n::ffff:192.0.2.1 "
    assert allow_list_parse(text) == [
        "203.0.113.7",
        "198.51.100.0/24",
        "2001:db8::1",
        "2001:db8:abcd::/48",
        "::ffff:c000:201",
    ]
    assert allow_list_parse("") == [] and allow_list_parse(" , \n") == []


@pytest.mark.parametrize(
    "entry, suggestion",
    [
        ("203.0.113.300", ""),
        ("kantor", ""),
        ("10.0.0.5/24", "10.0.0.0/24"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("10.0.0.0/33", ""),
        ("\uff11.\uff12.\uff13.\uff14", ""),  # full-width digits
        ("1" * 80, ""),
    ],
)
def test_parse_refuses_bad_entries(entry, suggestion):
    with pytest.raises(AllowListError) as caught:
        allow_list_parse(f"203.0.113.7, {entry}")
    assert caught.value.suggestion == suggestion


def test_address_allowed_rules():
    stored = "203.0.113.7\n198.51.100.0/24\n2001:db8::/32"
    assert address_allowed("203.0.113.7", stored)
    assert address_allowed("198.51.100.200", stored)  # CIDR
    assert address_allowed("2001:db8:1::5", stored)  # IPv6 range
    assert address_allowed("::ffff:203.0.113.7", stored)  # IPv4-mapped IPv6 is its IPv4
    assert not address_allowed("203.0.113.8", stored)
    assert not address_allowed("2001:db9::1", stored)
    assert not address_allowed(None, stored) and not address_allowed("junk", stored)
    assert address_allowed(None, "") and address_allowed("203.0.113.8", "")  # empty list = any address


# --- enforcement --------------------------------------------------------------------------------------------
def restrict(who, text: str = f"{OFFICE}, 2001:db8::/32, 192.0.2.0/24") -> None:
    apikey_set_allowed_ips(who.user, text)


def calls(who, catalogue) -> dict[str, tuple[str, str, dict]]:
    """One call per protocol: (method, path, data)."""
    return {
        "virtusim": ("get", "/api/json.php", {"api_key": who.key, "action": "services"}),
        "smm": ("post", "/api/v2", {"key": who.key, "action": "balance"}),
        "osimesa": ("post", "/api/prepaid", {"key": who.key, "sign": who.sign, "type": "service"}),
    }


REFUSED = {
    "virtusim": (403, {"status": False, "data": {"msg": "IP tidak terdaftar"}}),
    "smm": (403, {"error": "IP address is not allowed for this API key"}),
    "osimesa": (
        403,
        {"code": 403, "status": False, "message": "IP address is not allowed for this API key.", "data": None},
    ),
}


@pytest.mark.parametrize("protocol", ["virtusim", "smm", "osimesa"])
def test_form_protocols_refuse_other_addresses(api_user, catalogue, upstream, protocol):
    restrict(api_user)
    method, path, data = calls(api_user, catalogue)[protocol]
    for address in (OFFICE, "192.0.2.77", "2001:db8:5::1"):
        allowed = getattr(Client(REMOTE_ADDR=address), method)(path, data)
        assert allowed.status_code == 200, (address, allowed.content)
    refused = getattr(Client(REMOTE_ADDR=ELSEWHERE), method)(path, data)
    assert (refused.status_code, refused.json()) == REFUSED[protocol]


def raja(address: str, who, action: str = "send") -> dict:
    body = {"apikey": who.key, "datapacket": [{"number": "081234567890", "message": "Halo"}]}
    response = Client(REMOTE_ADDR=address).post(
        f"/sms/api_sms_reguler_{action}_json.php", json.dumps(body), content_type="application/json"
    )
    return response.json()


def test_rajasms_answers_globalstatus_40(api_user, catalogue, upstream):
    restrict(api_user)
    assert raja(ELSEWHERE, api_user) == {
        "sending_respon": [{"globalstatus": 40, "globalstatustext": "Ip address not register"}]
    }
    assert raja(ELSEWHERE, api_user, "balance") == {
        "balance_respon": [{"globalstatus": 40, "globalstatustext": "Ip address not register"}]
    }
    assert not Order.objects.exists() and balance_of(api_user.user) == START
    assert raja(OFFICE, api_user)["sending_respon"][0]["globalstatus"] == 10
    assert raja("2001:db8::7", api_user, "balance")["balance_respon"][0]["globalstatus"] == 10


def test_an_order_from_another_address_charges_nothing(api_user, catalogue, upstream):
    restrict(api_user)
    data = {"key": api_user.key, "action": "add", "service": str(catalogue.smm.pk), "link": "https://x.com/a"}
    refused = Client(REMOTE_ADDR=ELSEWHERE).post("/api/v2", {**data, "quantity": "1000"})
    assert refused.status_code == 403 and not Order.objects.exists() and balance_of(api_user.user) == START


def test_without_a_list_any_address_may_call(api_user, catalogue, upstream):
    for address in (OFFICE, ELSEWHERE, "2001:db8::1"):
        assert (
            Client(REMOTE_ADDR=address).post("/api/v2", {"key": api_user.key, "action": "balance"}).status_code == 200
        )


def test_the_address_is_read_as_the_throttle_reads_it_behind_the_proxy(api_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    restrict(api_user)
    proxy = Client(REMOTE_ADDR="10.0.0.5")
    data = {"key": api_user.key, "action": "balance"}
    assert proxy.post("/api/v2", data, HTTP_X_FORWARDED_FOR=OFFICE).status_code == 200
    assert proxy.post("/api/v2", data, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 403
    # a forwarded header from anyone but the proxy is ignored: the caller's own address counts
    assert Client(REMOTE_ADDR=ELSEWHERE).post("/api/v2", data, HTTP_X_FORWARDED_FOR=OFFICE).status_code == 403


def test_calls_from_elsewhere_do_not_use_up_the_keys_rate(api_user, settings):
    settings.API_RATE_LIMIT = 3
    restrict(api_user)
    data = {"key": api_user.key, "action": "balance"}
    for _ in range(10):
        assert Client(REMOTE_ADDR=ELSEWHERE).post("/api/v2", data).status_code == 403
    assert Client(REMOTE_ADDR=OFFICE).post("/api/v2", data).status_code == 200


def test_a_wrong_key_from_elsewhere_is_still_a_wrong_key(api_user):
    restrict(api_user)
    wrong = Client(REMOTE_ADDR=ELSEWHERE).post("/api/v2", {"key": "x" * 48, "action": "balance"})
    assert wrong.json() == {"error": "Invalid API key"}  # nothing is told about other resellers' lists


def test_rotating_the_key_keeps_the_list(api_user):
    restrict(api_user, OFFICE)
    apikey_rotate(api_user.user)
    assert ApiKey.objects.get(user=api_user.user).allowed_ips == OFFICE


def test_service_refuses_bad_lists_and_saves_nothing(api_user, make_reseller):
    restrict(api_user, OFFICE)
    with pytest.raises(AllowListInvalid, match=r"10\.0\.0\.0/24"):
        apikey_set_allowed_ips(api_user.user, "10.0.0.5/24")
    with pytest.raises(AllowListInvalid):
        apikey_set_allowed_ips(api_user.user, ", ".join(f"10.0.{i}.1" for i in range(51)))
    assert ApiKey.objects.get(user=api_user.user).allowed_ips == OFFICE
    with pytest.raises(AllowListInvalid):
        apikey_set_allowed_ips(make_reseller("tanpa-kunci"), OFFICE)  # no key yet


# --- the API page -----------------------------------------------------------------------------------------------
def test_the_api_page_saves_the_list(client, api_user):
    client.force_login(api_user.user)
    page = client.get(reverse("api_key")).content.decode()
    assert 'data-testid="ip-form"' in page and "Alamat IP yang diizinkan" in page
    saved = client.post(reverse("api_key_ips"), {"allowed_ips": "203.0.113.7\n2001:DB8::/32"}, follow=True)
    assert "kunci Anda kini hanya berlaku dari alamat yang terdaftar" in saved.content.decode()
    assert ApiKey.objects.get(user=api_user.user).allowed_ips == "203.0.113.7\n2001:db8::/32"
    assert "2001:db8::/32" in client.get(reverse("api_key")).content.decode()  # shown back for editing
    cleared = client.post(reverse("api_key_ips"), {"allowed_ips": ""}, follow=True)
    assert "kunci Anda berlaku dari alamat mana pun" in cleared.content.decode()
    assert ApiKey.objects.get(user=api_user.user).allowed_ips == ""


@pytest.mark.parametrize(
    "typed, message",
    [
        ("203.0.113.300", "“203.0.113.300” bukan alamat IPv4 atau IPv6 maupun rentang CIDR."),
        ("10.0.0.5/24", "“10.0.0.5/24” bukan alamat jaringan; maksud Anda 10.0.0.0/24?"),
        (", ".join(f"10.0.{i}.1" for i in range(51)), "Paling banyak 50 alamat atau rentang."),
        ("1" * 4001, "Daftarnya terlalu panjang."),
    ],
)
def test_the_api_page_explains_a_bad_list_in_indonesian(client, api_user, typed, message):
    restrict(api_user, OFFICE)
    client.force_login(api_user.user)
    response = client.post(reverse("api_key_ips"), {"allowed_ips": typed})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ApiKey.objects.get(user=api_user.user).allowed_ips == OFFICE


def test_without_a_key_there_is_no_list_to_set(client, make_reseller):
    user = make_reseller("baru")
    client.force_login(user)
    assert 'data-testid="ip-form"' not in client.get(reverse("api_key")).content.decode()
    response = client.post(reverse("api_key_ips"), {"allowed_ips": OFFICE})
    assert response.status_code == 400 and "Buat kunci API terlebih dahulu." in response.content.decode()


def test_the_list_is_set_by_its_owner_only(client):
    assert client.post(reverse("api_key_ips"), {"allowed_ips": OFFICE}).status_code == 302  # to the login
