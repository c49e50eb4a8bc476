"""Each message a reseller meets says one clear thing in Indonesian, beside the field it is about (#19, item 4):
the login error names the field once, the recipients limit counts numbers, a quantity out of range names
the service's own range (negative and 20 digits alike), an `unknown` order shows one warning and no green
"charged" banner, and a date the orders list cannot read is said so instead of being ignored."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from orders.models import Order, OrderStatus
from tests.web.conftest import make_orders

pytestmark = pytest.mark.django_db


def field_errors(html: str, name: str) -> list[str]:
    """The texts of the error paragraphs beside field `name` (see templates/orders/_field.html)."""
    pattern = rf'<p class="field-error"[^>]*(?:data-error-for="{name}"|id="error-{name}")[^>]*>([^<]*)<'
    found = re.findall(pattern, html)
    return [text.strip() for text in found if text.strip()]


def test_a_wrong_login_names_the_username_once(client, reseller):
    html = client.post(reverse("login"), {"username": "budi", "password": "salah"}).content.decode()
    assert "Nama pengguna atau kata sandi salah. Huruf besar dan kecil dibedakan." in html
    assert "nama pengguna nama pengguna" not in html.lower()


def test_an_empty_login_says_what_is_missing_beside_each_field(client, db):
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert field_errors(html, "username") == ["Masukkan nama pengguna Anda."]
    assert field_errors(html, "password") == ["Masukkan kata sandi Anda."]
    assert "novalidate" in html  # the browser's own (English, for an en-US browser) bubbles stay out


@override_settings(ADMIN_2FA=False)
def test_a_wrong_operator_login_names_the_username_once(client, db):
    html = client.post(reverse("admin:login"), {"username": "operator", "password": "salah"}).content.decode()
    assert "Nama pengguna atau kata sandi akun operator salah." in html
    assert "nama pengguna nama pengguna" not in html.lower()


@pytest.mark.parametrize(
    "recipients",
    [
        ",".join(["081234567890"] * 3000),  # 38,999 characters: beyond what 1,000 numbers need
        "\n".join(f"0812{i:08d}" for i in range(1001)),
    ],
)
def test_the_recipients_limit_is_counted_in_numbers(client, rich, web_shop, recipients):
    client.force_login(rich)
    data = {"sms_type": "reguler", "message": "hai", "recipients": recipients}
    html = client.post(reverse("order_new", args=["sms"]), data).content.decode()
    assert field_errors(html, "recipients") == ["Paling banyak 1.000 nomor per pengiriman."]
    assert "karakter" not in " ".join(field_errors(html, "recipients"))


@pytest.mark.parametrize("quantity", ["-5", "0", "99999999999999999999", "9" * 5000, "1.000.000.000"])
def test_a_quantity_out_of_range_names_the_services_range(client, rich, web_shop, quantity):
    client.force_login(rich)
    service = web_shop.smm
    data = {"service": service.pk, "link": "https://instagram.com/p/x", "quantity": quantity}
    expected = f"Untuk layanan ini jumlah harus antara {service.min_qty:,} dan {service.max_qty:,}.".replace(",", ".")
    html = client.post(reverse("order_new", args=["smm"]), data).content.decode()
    assert field_errors(html, "quantity") == [expected]
    live = client.post(reverse("order_price"), {**data, "kind": "smm"}).json()
    assert live["errors"]["quantity"] == expected
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", ["abc", "1e3", "1,5", "١٢٣"])
def test_a_quantity_that_is_not_a_number_says_so(client, rich, web_shop, quantity):
    client.force_login(rich)
    data = {"service": web_shop.smm.pk, "link": "https://instagram.com/p/x", "quantity": quantity}
    html = client.post(reverse("order_new", args=["smm"]), data).content.decode()
    assert field_errors(html, "quantity") == ["Masukkan bilangan bulat, misalnya 1000."]


def test_an_empty_quantity_asks_for_one(client, rich, web_shop):
    client.force_login(rich)
    data = {"service": web_shop.smm.pk, "link": "https://instagram.com/p/x", "quantity": ""}
    html = client.post(reverse("order_new", args=["smm"]), data).content.decode()
    assert field_errors(html, "quantity") == ["Masukkan jumlah."]


def test_an_unknown_order_shows_one_warning(client, rich, web_shop):
    order = next(o for o in make_orders(rich, web_shop, 7) if o.status == OrderStatus.UNKNOWN)
    Order.objects.filter(pk=order.pk).update(error="Provider timed out after 30 s")
    client.force_login(rich)
    html = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert html.count('class="msg warning"') == 1
    assert "Kami sedang memeriksa pesanan ini" in html and "timed out" not in html


def test_an_order_placed_as_unknown_gets_no_green_charged_banner(client, rich, web_shop, monkeypatch):
    """A provider that answers neither yes nor no leaves the order `unknown`: the order page's one warning
    explains it; a green "placed; Rp … charged" above it would contradict it."""
    order = make_orders(rich, web_shop, 7)[6]
    assert order.status == OrderStatus.UNKNOWN
    monkeypatch.setattr("orders.views.web.order_place", lambda user, **kwargs: order)
    client.force_login(rich)
    data = {"service": web_shop.smm.pk, "link": "https://instagram.com/p/x", "quantity": "500"}
    confirm = client.post(reverse("order_new", args=["smm"]), data).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    response = client.post(reverse("order_place", args=["smm"]), {**data, "token": token}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("order_detail", args=[order.pk])
    assert 'class="msg success"' not in html and html.count('class="msg warning"') == 1


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-02-31"}, "start", "Masukkan tanggal seperti 31-12-2026."),
        ({"end": "kemarin"}, "end", "Masukkan tanggal seperti 31-12-2026."),
        ({"start": "1900-01-01"}, "start", "Masukkan tanggal seperti 31-12-2026."),
        ({"start": "2026-12-07", "end": "2026-12-01"}, "end", "Tanggal akhir sebelum tanggal awal."),
    ],
)
def test_a_bad_filter_date_is_said_beside_its_field(client, rich, query, field, message):
    client.force_login(rich)
    response = client.get(reverse("order_list"), query)
    assert response.status_code == 200
    assert field_errors(response.content.decode(), field) == [message]


def test_a_good_filter_date_has_no_message_and_reads_indonesian_order(client, rich):
    client.force_login(rich)
    html = client.get(reverse("order_list"), {"start": "01-12-2026", "end": "2026-12-07"}).content.decode()
    assert not field_errors(html, "start") and not field_errors(html, "end")
    assert 'value="2026-12-01"' in html
