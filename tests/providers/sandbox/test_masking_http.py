from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.sandbox.models import DlrState, SandboxOrder
from providers.sandbox.protocols.masking_http import delivery_report
from tests.providers.sandbox.helpers import balance_of, rewind

BASE = "/sandbox/masking_http/"


@pytest.fixture
def account(make_account):
    return make_account("masking_http", dlr_delay_seconds=5, balance=Decimal("10000"))


def login(account) -> dict[str, str]:
    return {"username": account.username, "password": account.password}


def send(client, account, hp: str = "6281234567890", message: str = "Halo", method: str = "get") -> str:
    path = "send.php" if method == "get" else "send_post.php"
    return getattr(client, method)(BASE + path, {**login(account), "hp": hp, "message": message}).content.decode()


def report(client, rpt: str) -> str:
    return client.get(BASE + "report.php", {"rpt": rpt}).content.decode()


def test_send_replies_a_bare_number_and_report_moves_on(client, account):
    rpt = send(client, account)
    assert rpt.isdigit()
    assert balance_of(account) == Decimal("9650")
    assert report(client, rpt) == "20"
    rewind(6, account=account)
    assert report(client, rpt) == "22"


def test_post_and_long_messages_cost_two_sms(client, account):
    assert send(client, account, message="x" * 161, method="post").isdigit()
    assert balance_of(account) == Decimal("9300")


@pytest.mark.parametrize(
    ("hp", "reply", "refunded"),
    [
        ("6281234567890", "22", False),
        ("6281234567894", "50 Saldo Habis", True),
        ("6281234567896", "50 Periode Habis", True),
        ("6281234567895", "50 No Charge", True),
    ],
)
def test_report_codes_by_number(client, account, hp, reply, refunded):
    rpt = send(client, account, hp=hp)
    assert report(client, rpt) == "20"
    rewind(6, account=account)
    assert report(client, rpt) == reply
    assert balance_of(account) == (Decimal("10000") if refunded else Decimal("9650"))


@pytest.mark.parametrize(
    ("hp", "code", "message"),
    [
        ("6281234567890", "22", "Delivered"),
        ("6281234567894", "50", "Insufficient Credit Balance"),
        ("6281234567896", "51", "Expiration Period"),
        ("6281234567895", "52", "No Charge"),
    ],
)
def test_dlr_payload_by_number(client, account, hp, code, message):
    rpt = send(client, account, hp=hp)
    sent = delivery_report(SandboxOrder.objects.get())
    assert (sent.method, sent.payload) == (
        "GET",
        {"session_id": rpt, "error_code": code, "error_message": message, "msisdn": hp},
    )


def test_errors_are_plain_text(client, account, make_account):
    bad = client.get(BASE + "send.php", {"username": account.username, "password": "x", "hp": "62812", "message": "a"})
    assert bad.content.decode() == "Username atau Password salah"
    assert send(client, account, hp="0812345678") == "Nomor tujuan tidak valid"
    assert send(client, account, message=" ") == "Pesan tidak boleh kosong"
    poor = make_account("masking_http", balance=Decimal("100"))
    assert send(client, poor) == "Saldo tidak cukup"
    assert report(client, "1") == "Data tidak ditemukan"
    assert not SandboxOrder.objects.exists()


def test_report_with_foreign_login_is_refused(client, account, make_account):
    rpt = send(client, account)
    other = make_account("masking_http")
    response = client.get(BASE + "report.php", {"rpt": rpt, **login(other)})
    assert response.content.decode() == "Username atau Password salah"


def test_balance(client, account):
    assert client.get(BASE + "balance.php", login(account)).content.decode() == "10000"
    assert client.get(BASE + "balance.php", {"username": "x", "password": "y"}).content.decode() == (
        "Username atau Password salah"
    )


def test_reports_post_is_csv_for_the_date_range(client, account):
    rpt = send(client, account, message="Halo, apa kabar?")
    today = timezone.localtime().strftime("%d-%m-%Y")
    response = client.post(BASE + "reports_post.php", {**login(account), "start": today, "end": today})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["id", "tanggal", "msisdn", "pesan", "jumlah_sms", "status", "keterangan"]
    assert rows[1][0] == rpt and rows[1][2:] == ["6281234567890", "Halo, apa kabar?", "1", "20", "Pending"]
    empty = client.post(BASE + "reports_post.php", {**login(account), "start": "01-01-2020", "end": "02-01-2020"})
    assert len(list(csv.reader(io.StringIO(empty.content.decode())))) == 1
    bad = client.post(BASE + "reports_post.php", {**login(account), "start": "2020-01-01", "end": today})
    assert bad.content.decode() == "Format tanggal salah"


def test_inbox_lists_handset_replies(client, account):
    send(client, account, hp="6281234567897")
    send(client, account, hp="6281234567890")

    def rows() -> list[list[str]]:
        return list(csv.reader(io.StringIO(client.get(BASE + "inbox.php", login(account)).content.decode())))

    assert rows() == [["id", "tanggal", "pengirim", "pesan"]]
    rewind(120, account=account)
    assert [r[2:] for r in rows()[1:]] == [["6281234567897", "YA"]]


def test_dlr_pending_only_with_registered_callback(client, account, make_account):
    send(client, account)
    assert SandboxOrder.objects.get().dlr_state == DlrState.NONE
    registered = make_account("masking_http", callback_url="http://127.0.0.1:9/dlr")
    send(client, registered)
    order = SandboxOrder.objects.get(account=registered)
    assert (order.dlr_state, order.callback_url) == (DlrState.PENDING, "http://127.0.0.1:9/dlr")
