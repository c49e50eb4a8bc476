"""Every reseller page renders for an account with nothing in it and for one with hundreds of orders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Order
from tests.web.conftest import make_orders

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    ("dashboard", {}),
    ("catalogue", {}),
    ("order_start", {}),
    ("order_list", {}),
    ("balance", {}),
    ("deposit", {}),
    ("api_key", {}),
]
QUERIES = [
    ("catalogue", "?kind=otp"),
    ("catalogue", "?kind=smm&category=Instagram"),
    ("catalogue", "?kind=sms"),
    ("catalogue", "?q=telkomsel&page=99"),
    ("order_list", "?kind=smm&status=completed"),
    ("order_list", "?start=2020-01-01&end=2100-01-01&q=0812"),
    ("order_list", "?q=%23123&before=999999"),
    ("order_list", "?after=1&kind=nonsense&status=%3Cb%3E&start=31-31-2020"),
]


def pages_for(user) -> list[str]:
    urls = [reverse(name, kwargs=kw) for name, kw in LIST_PAGES]
    urls += [reverse(name) + query for name, query in QUERIES]
    urls += [reverse("order_new", args=[kind]) for kind in ("otp", "smm", "prepaid", "sms")]
    seen = set()
    for order in Order.objects.filter(user=user).order_by("-id"):  # one order of each kind and status
        if (order.kind, order.status) not in seen:
            seen.add((order.kind, order.status))
            urls += [reverse("order_detail", args=[order.pk]), reverse("order_status", args=[order.pk])]
    return urls


@pytest.mark.parametrize("who", ["empty", "busy"])
def test_every_page_renders(client, who, empty_reseller, web_shop, request):
    user = empty_reseller if who == "empty" else request.getfixturevalue("busy")
    client.force_login(user)
    urls = pages_for(user)
    assert len(urls) >= 19
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if who == "empty" and "order" in url:
            assert b"Rp" in response.content or response["Content-Type"].startswith("application/json")


def test_an_empty_shop_renders_too(client, empty_reseller):
    """No provider, no catalogue, no price at all: the pages say so instead of failing."""
    client.force_login(empty_reseller)
    for url in [reverse(n) for n, _ in LIST_PAGES] + [reverse("order_new", args=[k]) for k in ("otp", "sms")]:
        assert client.get(url).status_code == 200, url


def test_unknown_kind_is_404(client, reseller):
    client.force_login(reseller)
    assert client.get(reverse("order_new", args=["pulsa"])).status_code == 404
    assert client.post(reverse("order_place", args=["pulsa"])).status_code == 404


def test_pages_need_login(client, web_shop, reseller):
    order = make_orders(reseller, web_shop, 1)[0]
    urls = [reverse(n) for n, _ in LIST_PAGES] + [
        reverse("order_new", args=["otp"]),
        reverse("order_price") + "?kind=otp",
        reverse("order_detail", args=[order.pk]),
        reverse("order_status", args=[order.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


def test_operators_are_sent_to_the_admin(client, operator):
    client.force_login(operator)
    for name in ("dashboard", "catalogue", "order_list", "balance", "api_key"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), name


def test_sms_orders_never_name_the_gateway(client, busy):
    """SMS routes are Services named after their gateway; resellers see the SMS type only."""
    client.force_login(busy)
    sms = Order.objects.filter(user=busy, kind="sms").order_by("-id").first()
    for url in (reverse("order_list"), reverse("dashboard"), reverse("order_detail", args=[sms.pk])):
        html = client.get(url).content.decode()
        assert "SMS Reguler" in html and "Raja" not in html, url
