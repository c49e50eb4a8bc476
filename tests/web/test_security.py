"""Isolation between resellers (another reseller's order is a 404 on every order URL) and CSRF on every
POST form of the reseller pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey, DepositRequest
from orders.models import Order
from tests.web.conftest import make_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(make_reseller, web_shop) -> list[Order]:
    return make_orders(make_reseller("orang-lain", deposit=10_000), web_shop, 8)


def test_another_resellers_order_is_404_everywhere(client, rich, theirs, upstream):
    client.force_login(rich)
    for order in theirs:
        for name in ("order_detail", "order_status"):
            assert client.get(reverse(name, args=[order.pk])).status_code == 404, (name, order.kind)
        for action in ("cancel", "resend", "done", "refill"):
            response = client.post(reverse("order_action", args=[order.pk]), {"action": action})
            assert response.status_code == 404
    assert client.get(reverse("order_detail", args=[10**12])).status_code == 404
    assert not [c for c in upstream.calls if c[0] != "statuses"]  # nothing was asked upstream for them


def test_own_orders_are_found(client, theirs):
    client.force_login(theirs[0].user)
    assert client.get(reverse("order_detail", args=[theirs[0].pk])).status_code == 200


def strict_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def post_forms(shop, order: Order) -> list[tuple[str, dict]]:
    return [
        (reverse("order_new", args=["otp"]), {"service": shop.otp.pk, "operator": "any"}),
        (reverse("order_place", args=["otp"]), {"service": shop.otp.pk, "operator": "any", "token": "x"}),
        (reverse("order_price"), {"kind": "otp", "service": shop.otp.pk}),
        (reverse("order_action", args=[order.pk]), {"action": "cancel"}),
        (reverse("deposit"), {"amount": "50000", "method": "bank", "note": ""}),
        (reverse("api_key_rotate"), {}),
    ]


def test_every_post_form_needs_the_csrf_token(rich, web_shop, upstream):
    order = make_orders(rich, web_shop, 1)[0]
    client = strict_client(rich)
    for url, data in post_forms(web_shop, order):
        assert client.post(url, data).status_code == 403, url
    assert Order.objects.count() == 1 and not DepositRequest.objects.exists() and not ApiKey.objects.exists()
    assert upstream.calls == []


def test_forms_carry_the_csrf_token(rich, web_shop, upstream):
    """The same POSTs succeed with the token the pages hand out."""
    client = strict_client(rich)
    client.get(reverse("deposit"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("deposit"), {"amount": "50000", "method": "qris", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and DepositRequest.objects.filter(user=rich).count() == 1
    response = client.post(reverse("api_key_rotate"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and ApiKey.objects.filter(user=rich).exists()
    price = client.post(
        reverse("order_price"), {"kind": "otp", "service": web_shop.otp.pk, "csrfmiddlewaretoken": token}
    )
    assert price.status_code == 200 and price.json()["charge"].startswith("Rp ")


def test_reseller_pages_refuse_get_on_post_urls(client, rich, web_shop):
    order = make_orders(rich, web_shop, 1)[0]
    client.force_login(rich)
    assert client.get(reverse("order_place", args=["otp"])).status_code == 405
    assert client.get(reverse("order_action", args=[order.pk])).status_code == 405
    assert client.get(reverse("api_key_rotate")).status_code == 405
