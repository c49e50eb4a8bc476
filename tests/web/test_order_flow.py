"""Placing orders through the pages: form -> confirmation with the charge -> pay (POST, one time) ->
the order's page. The upstream is faked in memory (tests/orders/fakes.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry
from accounts.selectors import balance_of
from orders.models import Order
from providers.adapters.errors import ProviderRejected
from providers.adapters.types import Status

pytestmark = pytest.mark.django_db


def _requests(shop):
    return {
        "otp": {"service": shop.otp.pk, "operator": "any"},
        "smm": {"service": shop.smm.pk, "link": "https://instagram.com/p/xyz", "quantity": "1.000"},
        "prepaid": {"service": shop.prepaid.pk, "target": "0812-3456-7890"},
        "sms": {"sms_type": "reguler", "message": "Halo semua", "recipients": "081234567890\n0812-3456-7891"},
    }


def confirm(client, kind: str, data: dict):
    response = client.post(reverse("order_new", args=[kind]), data)
    assert response.status_code == 200
    return response


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def pay(client, kind: str, data: dict, token: str):
    return client.post(reverse("order_place", args=[kind]), {**data, "token": token})


@pytest.mark.parametrize("kind", ["otp", "smm", "prepaid", "sms"])
def test_place_each_kind(client, rich, web_shop, upstream, kind):
    client.force_login(rich)
    data = _requests(web_shop)[kind]
    start = balance_of(rich)
    page = confirm(client, kind, data)
    html = page.content.decode()
    assert 'data-testid="confirm-charge"' in html
    charge = re.search(r'data-testid="confirm-charge">([^<]+)<', html).group(1)
    assert charge.startswith("Rp ")
    assert Order.objects.count() == 0  # nothing is placed before "Pay"

    response = pay(client, kind, data, token_of(page))
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("order_detail", args=[order.pk])
    assert order.kind == kind and order.source == "web" and order.user == rich
    assert charge == f"Rp {int(order.charge):,}".replace(",", ".")
    assert balance_of(rich) == start - order.charge
    detail = client.get(response["Location"]).content.decode()
    assert f"#{order.pk}" in detail
    if kind == "smm":
        assert order.quantity == 1000
    if kind == "sms":
        assert order.recipients.count() == 2 and "6281234567890" in detail


def test_form_and_confirmation_show_prices_in_rupiah(client, rich, web_shop):
    client.force_login(rich)
    page = confirm(client, "smm", _requests(web_shop)["smm"]).content.decode()
    # IG Followers: cost 10,000 per 1000 with the default markup; 1000 units
    assert re.search(r"Rp \d{1,3}(\.\d{3})+", page)


def test_pay_twice_with_one_confirmation_places_one_order(client, rich, web_shop, upstream):
    client.force_login(rich)
    data = _requests(web_shop)["otp"]
    token = token_of(confirm(client, "otp", data))
    first = pay(client, "otp", data, token)
    second = pay(client, "otp", data, token)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == reverse("order_detail", args=[order.pk])
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="charge").count() == 1
    assert upstream.count("place") == 1


def test_pay_without_a_confirmation_places_nothing(client, rich, web_shop):
    client.force_login(rich)
    data = _requests(web_shop)["otp"]
    for token in ("", "forged-token", "x" * 5000):
        response = pay(client, "otp", data, token)
        assert response.status_code == 200
        assert "expired" in response.content.decode() or "kedaluwarsa" in response.content.decode()
    assert Order.objects.count() == 0


def test_pay_rechecks_the_request(client, rich, web_shop):
    """The confirmation's hidden fields are checked again: a tampered quantity is refused."""
    client.force_login(rich)
    data = _requests(web_shop)["smm"]
    token = token_of(confirm(client, "smm", data))
    response = pay(client, "smm", {**data, "quantity": "5"}, token)
    assert response.status_code == 200 and Order.objects.count() == 0
    assert 'data-error-for="quantity"' in response.content.decode()


def test_not_enough_balance(client, make_reseller, web_shop):
    poor = make_reseller("miskin", deposit=100)
    client.force_login(poor)
    data = _requests(web_shop)["prepaid"]
    page = confirm(client, "prepaid", data)
    assert b"disabled" in page.content  # the pay button
    response = pay(client, "prepaid", data, token_of(page))
    assert response.status_code == 200 and Order.objects.count() == 0
    assert balance_of(poor) == Decimal("100")


def test_refused_upstream_is_refunded_and_said(client, rich, web_shop, upstream):
    client.force_login(rich)
    upstream.place.append(ProviderRejected("Saldo tidak cukup", provider="OTP"))
    data = _requests(web_shop)["otp"]
    response = pay(client, "otp", data, token_of(confirm(client, "otp", data)))
    order = Order.objects.get()
    assert order.status == Status.FAILED and order.refunded == order.charge
    page = client.get(response["Location"]).content.decode()
    # Said in the reseller's language; the provider's reason (here its own balance) is not theirs to read.
    assert "Provider menolak pesanan ini. Saldo Anda sudah dikembalikan." in page
    assert "Saldo tidak cukup" not in page


def test_change_returns_to_the_filled_form(client, rich, web_shop):
    client.force_login(rich)
    data = _requests(web_shop)["sms"]
    response = client.post(reverse("order_new", args=["sms"]), {**data, "edit": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "Halo semua" in html and "0812-3456-7891" in html
    assert "field-error" in html and "has-error" not in html  # no errors shown on an edit


def test_unavailable_products_are_refused_beside_the_field(client, rich, web_shop):
    client.force_login(rich)
    cases = [
        ("otp", {"service": web_shop.otp_empty.pk, "operator": "any"}, "service"),
        ("prepaid", {"service": web_shop.prepaid_cutoff.pk, "target": "081234567890"}, "service"),
        ("prepaid", {"service": web_shop.prepaid_empty.pk, "target": "081234567890"}, "service"),
        ("smm", {"service": web_shop.off_sale.pk, "link": "https://tiktok.com/@a", "quantity": 100}, "service"),
        ("smm", {"service": web_shop.otp.pk, "link": "https://tiktok.com/@a", "quantity": 100}, "service"),
    ]
    for kind, data, field in cases:
        html = client.post(reverse("order_new", args=[kind]), data).content.decode()
        error = re.search(rf'data-error-for="{field}"[^>]*>([^<]*)<', html).group(1)
        assert error.strip(), (kind, data)
    assert Order.objects.count() == 0


def test_catalogue_links_prefill_the_form(client, rich, web_shop):
    client.force_login(rich)
    catalogue = client.get(reverse("catalogue")).content.decode()
    link = reverse("order_new", args=["smm"]) + f"?service={web_shop.smm.pk}"
    assert link in catalogue
    form = client.get(link).content.decode()
    assert f'<option value="{web_shop.smm.pk}" selected>' in form
    assert 'value="100"' in form  # the minimum quantity


def test_catalogue_shows_unavailable_products(client, rich, web_shop):
    client.force_login(rich)
    html = client.get(reverse("catalogue")).content.decode()
    for service in (web_shop.otp_empty, web_shop.prepaid_cutoff, web_shop.prepaid_empty, web_shop.off_sale):
        assert service.name in html
    for state in ("empty", "cutoff", "off_sale", "available"):
        assert f'class="badge {state}"' in html
    assert "SMS Reguler" in html
    smm_only = client.get(reverse("catalogue") + "?kind=smm&q=tiktok").content.decode()
    assert "TikTok Views" in smm_only and "IG Followers" not in smm_only
