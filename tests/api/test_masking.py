"""Masking HTTP gateway-compatible `/api/masking/*.php` (provider-docs 003): plain-text replies, the
reseller's username + API key, billing per 160 characters, report ids scoped to their owner."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ApiKey
from accounts.selectors import balance_of, ledger_violations
from accounts.services import apikey_rotate
from orders.api import masking
from orders.models import Order, OrderRecipient
from orders.quotes import WIB
from orders.sms import count_segments
from providers.adapters.types import DeliveryState
from providers.models import Service
from tests.api.conftest import START, Reseller
from tests.reports.conftest import read_csv

pytestmark = pytest.mark.django_db
MESSAGE = "Kode OTP Anda 123456"
HP = "6281234567890"


def text(response) -> str:
    assert response["Content-Type"].startswith("text/plain"), response["Content-Type"]
    return response.content.decode()


def sent(api, who, message=MESSAGE, hp=HP, script="send", method="get") -> str:
    """Send one SMS and return the reply text."""
    return text(api.masking(script, who, method, hp=hp, message=message))


def nothing_charged(who: Reseller) -> None:
    assert not Order.objects.filter(user=who.user).exists()
    assert balance_of(who.user) == START
    assert ledger_violations() == []


# --- send.php / send_post.php ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "script, method", [("send", "get"), ("send_post", "post"), ("send", "post"), ("send_post", "get")]
)
def test_send_answers_the_bare_report_id_and_charges_the_masking_price(
    api, api_user, catalogue, upstream, script, method
):
    reply = sent(api, api_user, script=script, method=method)
    order = Order.objects.get()
    recipient = order.recipients.get()
    assert reply == str(recipient.pk)  # nothing but the id, as the gateway prints it
    route = catalogue.raja_routes["masking"]
    price = catalogue.price(route, api_user.user)
    assert (order.kind, order.source, order.client_protocol, order.service_id) == ("sms", "api", "masking", route.pk)
    assert (order.message, order.segments, order.quantity, order.charge) == (MESSAGE, 1, 1, price)
    assert recipient.number == HP
    assert balance_of(api_user.user) == START - price
    request = upstream.calls[0][2]
    assert request.service_id == "masking" and request.recipients == (HP,) and request.message == MESSAGE


def test_a_local_number_is_normalized(api, api_user, catalogue, upstream):
    assert sent(api, api_user, hp="0812-3456-7890").isdigit()
    assert OrderRecipient.objects.get().number == HP


@pytest.mark.parametrize(
    "length, parts",
    [(1, 1), (160, 1), (161, 2), (320, 2), (321, 3), (480, 3)],
)
def test_billed_per_160_characters_as_the_document_says(api, api_user, catalogue, upstream, length, parts):
    """ "standard dalam pengiriman satu sms adalah 160 karakter jika lebih dari 160 karakter akan terhitung
    menjadi 2 sms": 320 characters are 2 SMS here (the panel's own GSM rule of 153 per part would say 3)."""
    message = ("Halo " * 100)[:length]
    assert sent(api, api_user, message=message).isdigit()
    order = Order.objects.get()
    price = catalogue.price(catalogue.raja_routes["masking"], api_user.user)
    assert (order.segments, order.quantity, order.charge) == (parts, parts, price * parts)
    assert balance_of(api_user.user) == START - price * parts
    if length == 320:
        assert count_segments(message).count == 3  # so the rule really is the document's


def test_unicode_is_counted_by_characters_too(api, api_user, catalogue, upstream):
    """The document counts characters and says nothing of alphabets: 100 characters with an emoji are one
    SMS (the GSM rule would make it two UCS-2 parts)."""
    message = "Terima kasih 🙏 " + "x" * 85
    assert len(message) == 100 and count_segments(message).count == 2
    assert sent(api, api_user, message=message).isdigit()
    order = Order.objects.get()
    assert order.segments == 1 and order.charge == catalogue.price(catalogue.raja_routes["masking"], api_user.user)


@pytest.mark.parametrize(
    "params",
    [
        {"password": "x" * 48},  # unknown key
        {"username": "orang-lain"},  # the key is right, the username is not
        {"username": ""},
        {"password": ""},
        {"username": "TOKO"},  # usernames are compared exactly
    ],
)
def test_a_wrong_login_is_the_gateways_text_and_charges_nothing(api, api_user, catalogue, upstream, params):
    data = {"username": api_user.user.username, "password": api_user.key, "hp": HP, "message": MESSAGE, **params}
    for script in ("send", "send_post"):
        response = api.client.get(f"/api/masking/{script}.php", data)
        assert (response.status_code, text(response)) == (200, "Username atau Password salah")
    nothing_charged(api_user)
    assert upstream.calls == []


def test_a_staff_account_cannot_send(api, catalogue, upstream, make_reseller):
    staff = make_reseller("operator", deposit=int(START))
    staff.is_staff = True
    staff.save()
    who = Reseller(staff, apikey_rotate(staff))
    assert sent(api, who) == "Username atau Password salah"
    nothing_charged(who)


@pytest.mark.parametrize(
    "params, reply",
    [
        ({"message": ""}, "Pesan tidak boleh kosong"),
        ({"message": "   \n "}, "Pesan tidak boleh kosong"),
        ({"message": None}, "Pesan tidak boleh kosong"),  # no message at all
        ({"message": "x" * 481}, masking.BAD_MESSAGE),
        ({"message": "Halo\x00dunia"}, masking.BAD_MESSAGE),
        ({"hp": ""}, "Nomor tujuan tidak valid"),
        ({"hp": "12345"}, "Nomor tujuan tidak valid"),
        ({"hp": "6221555123"}, "Nomor tujuan tidak valid"),  # a landline
        ({"hp": "6281234567890,6281234567891"}, "Nomor tujuan tidak valid"),  # one number per request
        ({"hp": "62812\x0034567890"}, "Nomor tujuan tidak valid"),
        ({"hp": "\u0668" * 12}, "Nomor tujuan tidak valid"),  # Arabic-Indic digits are not digits here
    ],
)
def test_bad_input_is_refused_in_plain_text_and_charges_nothing(api, api_user, catalogue, upstream, params, reply):
    data = {key: value for key, value in {"hp": HP, "message": MESSAGE, **params}.items() if value is not None}
    response = api.masking("send", api_user, "post", **data)
    assert (response.status_code, text(response)) == (200, reply)
    nothing_charged(api_user)
    assert upstream.calls == []


def test_insufficient_balance_charges_nothing(api, catalogue, upstream, make_reseller):
    poor = make_reseller("miskin", deposit=100)
    who = Reseller(poor, apikey_rotate(poor))
    price = catalogue.price(catalogue.raja_routes["masking"], poor)
    assert price > 100
    assert sent(api, who) == "Saldo tidak cukup"
    assert not Order.objects.exists() and balance_of(poor) == Decimal("100")
    # one SMS fits, the same text at 161 characters (two SMS) does not
    rich_enough = make_reseller("pas", deposit=int(price) + 1)
    who = Reseller(rich_enough, apikey_rotate(rich_enough))
    assert sent(api, who, message="y" * 161) == "Saldo tidak cukup"
    assert sent(api, who, message="y" * 160).isdigit()
    assert balance_of(rich_enough) == Decimal(1) + int(price) - price
    assert ledger_violations() == []


def test_without_a_masking_route_the_service_is_unavailable(api, api_user, catalogue, upstream):
    Service.objects.filter(pk=catalogue.raja_routes["masking"].pk).update(is_enabled=False)
    assert sent(api, api_user) == "Layanan tidak tersedia"
    nothing_charged(api_user)


def test_a_masking_route_pointing_back_here_is_not_used(api, api_user, catalogue, upstream, settings):
    from orders.api.catalogue import self_pointing_ids
    from providers.services import provider_save

    settings.PANEL_PUBLIC_URL = "https://panel.example"
    looped, _ = provider_save(
        name="Me masking",
        kind="masking_http",
        base_url="https://panel.example/api/masking",
        username="toko",
        password="k" * 20,
        sms_cost=Decimal("100"),
    )
    assert looped.pk in self_pointing_ids()
    assert sent(api, api_user) == "Layanan tidak tersedia"
    nothing_charged(api_user)


# --- report.php -----------------------------------------------------------------------------------------
def _state(report_id: str, state: DeliveryState, code: str = "") -> None:
    OrderRecipient.objects.filter(pk=int(report_id)).update(state=state, code=code)


@pytest.mark.parametrize(
    "state, reply",
    [
        (DeliveryState.QUEUED, "20"),
        (DeliveryState.SENT, "20"),
        (DeliveryState.DELIVERED, "22"),
        (DeliveryState.REJECTED, "50, No Charge"),  # not sent, refunded: the balance was not cut
        (DeliveryState.FAILED, "50"),  # sent and charged, not delivered: none of the three reasons
    ],
)
def test_report_answers_the_gateways_codes(api, api_user, catalogue, upstream, state, reply):
    report_id = sent(api, api_user)
    _state(report_id, state)
    response = api.masking("report", api_user, rpt=report_id)
    assert (response.status_code, text(response)) == (200, reply)


def test_report_ids_are_the_callers_own(api, api_user, other_user, catalogue, upstream):
    theirs = sent(api, other_user)
    _state(theirs, DeliveryState.DELIVERED)
    for rpt in (theirs, "999999999", "", "abc", "-1", "0", "1e3", "\u0661", "9" * 40):
        assert text(api.masking("report", api_user, rpt=rpt)) == "Data tidak ditemukan", rpt
    assert text(api.masking("report", other_user, rpt=theirs)) == "22"
    # a wrong login is refused before the id is looked at
    assert text(api.masking("report", None, rpt=theirs)) == "Username atau Password salah"
    wrong = Reseller(api_user.user, other_user.key)  # someone else's key under this username
    assert text(api.masking("report", wrong, rpt=theirs)) == "Username atau Password salah"


def test_report_covers_every_sms_of_the_reseller(api, api_user, catalogue, upstream):
    """One id space: a RajaSMS sendingid is a report id too (both are the panel's recipient id)."""
    body = {"apikey": api_user.key, "datapacket": [{"number": "081234567891", "message": "Halo"}]}
    sending_id = api.packets(api.raja("reguler", body))[0]["sendingid"]
    assert text(api.masking("report", api_user, rpt=str(sending_id))) == "20"


# --- balance.php, inbox.php -----------------------------------------------------------------------------
def test_balance_is_the_resellers_own_with_a_far_expiry(api, api_user, other_user, catalogue, upstream):
    assert text(api.masking("balance", api_user)) == "1000000,2099/12/31-23:59:59"
    sent(api, api_user, message="z" * 200)
    price = catalogue.price(catalogue.raja_routes["masking"], api_user.user)
    expected = START - 2 * price
    shown = text(api.masking("balance", api_user, "post"))
    assert shown == f"{masking.amount_text(expected)},2099/12/31-23:59:59"
    assert text(api.masking("balance", other_user)) == "1000000,2099/12/31-23:59:59"
    assert text(api.masking("balance", None)) == "Username atau Password salah"


def test_inbox_is_the_empty_list(api, api_user, catalogue, upstream):
    response = api.masking("inbox", api_user)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert read_csv(response) == [["id", "tanggal", "pengirim", "pesan"]]
    assert text(api.masking("inbox", None)) == "Username atau Password salah"


# --- reports_post.php -----------------------------------------------------------------------------------
def test_reports_post_lists_the_callers_sms_of_the_dates(api, api_user, other_user, catalogue, upstream):
    first = sent(api, api_user, message='=HYPERLINK("http://x")')
    second = sent(api, api_user, message="w" * 161, hp="081234567891")
    sent(api, other_user, message="Pesan rahasia saingan")
    old = sent(api, api_user, message="lama")
    Order.objects.filter(recipients__pk=int(old)).update(created_at=timezone.now() - timedelta(days=40))
    _state(first, DeliveryState.DELIVERED)
    _state(second, DeliveryState.REJECTED)
    today = datetime.now(WIB).strftime("%d-%m-%Y")
    response = api.masking("reports_post", api_user, "post", start=today, end=today, download_report_button="Download")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="report_{today}_{today}.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["id", "tanggal", "msisdn", "pesan", "jumlah_sms", "status", "keterangan"]
    assert [row[:3] + row[4:] for row in rows[1:]] == [
        [first, rows[1][1], HP, "1", "22", "Delivered"],
        [second, rows[2][1], "6281234567891", "2", "50", "No Charge"],
    ]
    assert rows[1][3] == '\'=HYPERLINK("http://x")'  # a formula is written as text
    assert datetime.strptime(rows[1][1], "%d-%m-%Y %H:%M:%S")
    # the 40-day-old send is in its own range
    day = (datetime.now(WIB) - timedelta(days=40)).strftime("%d-%m-%Y")
    rows = read_csv(api.masking("reports_post", api_user, "post", start=day, end=day))
    assert [row[0] for row in rows[1:]] == [old]


@pytest.mark.parametrize(
    "start, end, reply",
    [
        ("", "", "Format tanggal salah"),
        ("2026-01-01", "2026-01-31", "Format tanggal salah"),
        ("31-01-2026", "01-01-2026", "Format tanggal salah"),
        ("32-01-2026", "01-02-2026", "Format tanggal salah"),
        ("01-01-2026", "01-06-2026", "Rentang tanggal maksimal 92 hari"),
    ],
)
def test_reports_post_refuses_bad_dates(api, api_user, catalogue, start, end, reply):
    assert text(api.masking("reports_post", api_user, "post", start=start, end=end)) == reply


def test_reports_post_needs_the_login(api, api_user, catalogue):
    assert text(api.masking("reports_post", None, "post", start="01-01-2026", end="01-01-2026")) == (
        "Username atau Password salah"
    )


# --- the protocol's edges -------------------------------------------------------------------------------
def test_other_methods_and_paths_answer_in_plain_text(api, api_user, catalogue):
    response = api.client.put("/api/masking/send.php")
    assert (response.status_code, text(response)) == (405, "Metode tidak didukung")
    assert response["Allow"] == "GET, POST"
    response = api.client.get("/api/masking/status.php")
    assert (response.status_code, text(response)) == (404, "Data tidak ditemukan")
    response = api.client.post("/api/masking/")
    assert (response.status_code, text(response)) == (404, "Data tidak ditemukan")


def test_rate_limited_per_key_in_plain_text(api, api_user, catalogue, upstream, settings):
    settings.API_RATE_LIMIT = 2
    assert text(api.masking("balance", api_user)).startswith("1000000")
    assert text(api.masking("balance", api_user)).startswith("1000000")
    response = api.masking("send", api_user, hp=HP, message=MESSAGE)
    assert response.status_code == 429 and text(response).startswith("Terlalu banyak permintaan")
    nothing_charged(api_user)


def test_guessing_logins_is_slowed_per_address(api, api_user, catalogue, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    for _ in range(3):
        assert text(api.masking("balance", Reseller(api_user.user, "y" * 48))) == "Username atau Password salah"
    response = api.masking("balance", Reseller(api_user.user, "y" * 48))
    assert response.status_code == 429
    assert text(api.masking("balance", api_user)).startswith("1000000")  # the right key still works


def test_replies_are_never_cached_and_never_echo_the_key(api, api_user, catalogue, upstream):
    for response in (
        api.masking("send", api_user, hp=HP, message=MESSAGE),
        api.masking("balance", api_user),
        api.masking("report", api_user, rpt="1"),
        api.masking("send", None, hp=HP, message=MESSAGE),
    ):
        assert "no-store" in response["Cache-Control"]
        assert api_user.key not in response.content.decode()


def test_a_saved_callback_url_goes_with_the_order(api, api_user, catalogue, upstream):
    ApiKey.objects.filter(user=api_user.user).update(masking_callback_url="https://toko.example/delivreq.php")
    sent(api, api_user)
    order = Order.objects.get()
    assert (order.client_callback_url, order.client_protocol) == ("https://toko.example/delivreq.php", "masking")
    # rotating the key keeps the setting
    apikey_rotate(api_user.user)
    assert ApiKey.objects.get(user=api_user.user).masking_callback_url == "https://toko.example/delivreq.php"


# --- this panel's own masking adapter, pointed at this panel over real HTTP ----------------------------------
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_panels_own_masking_adapter_works_against_it(settled_live_server, api_user, catalogue, upstream):
    """A buyer panel configures this panel as its masking gateway by URL alone: the adapter's sends, report
    polls, balance and report download all read what this API prints."""
    from datetime import date

    from providers.adapters.masking_http import MaskingHttpAdapter
    from providers.adapters.types import OrderRequest, ProductKind, ProviderConfig

    config = ProviderConfig(
        base_url=f"{settled_live_server.url}/api/masking",
        username=api_user.user.username,
        password=api_user.key,
        name="this panel",
    )
    adapter = MaskingHttpAdapter(config)
    for method in ("get", "post"):
        adapter = MaskingHttpAdapter(
            ProviderConfig(**{**config.__dict__, "options": {"method": method}})  # send.php or send_post.php
        )
        placed = adapter.place_order(
            OrderRequest(kind=ProductKind.SMS, service_id="masking", message="x" * 161, recipients=(HP, "081234567891"))
        )
        assert [r.state for r in placed.recipients] == [DeliveryState.QUEUED] * 2
        ids = [r.external_id for r in placed.recipients]
        assert ids == [str(pk) for pk in OrderRecipient.objects.order_by("-pk").values_list("pk", flat=True)[:2]][::-1]
    price = catalogue.price(catalogue.raja_routes["masking"], api_user.user)
    assert balance_of(api_user.user) == START - 4 * 2 * price  # four SMS of 161 characters: two each

    _state(ids[0], DeliveryState.DELIVERED)
    _state(ids[1], DeliveryState.REJECTED)
    reports = {r.external_id: r for r in adapter.fetch_reports([*ids, "999999"])}  # an unknown id is skipped
    assert set(reports) == set(ids)
    assert (reports[ids[0]].state, reports[ids[0]].code) == (DeliveryState.DELIVERED, "22")
    # "50, No Charge" is recorded under the DLR code that names the reason (52), as a callback would say it
    assert (reports[ids[1]].code, reports[ids[1]].state) == ("52", DeliveryState.REJECTED)

    assert adapter.fetch_balance().amount == balance_of(api_user.user)
    sent = adapter.download_report(date.today() - timedelta(days=1), date.today() + timedelta(days=1))
    assert len(sent) == 4  # four SMS, read by the panel's own parser of the gateway's table
    assert {row.external_id for row in sent} >= set(ids)
    assert adapter.inbox() == []  # the panel has no incoming SMS for resellers: the header row alone
    wrong = MaskingHttpAdapter(ProviderConfig(**{**config.__dict__, "password": "k" * 48}))
    with pytest.raises(Exception, match="Username atau Password salah"):
        wrong.fetch_balance()
