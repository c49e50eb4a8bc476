"""The live parts: the price endpoint behind the order forms, the status endpoint behind the order page
(which asks the upstream itself when the order has not moved) and the reseller actions."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.selectors import balance_of
from orders.models import Order
from orders.placement import order_place
from providers.adapters.errors import ProviderRejected
from providers.adapters.types import Status
from tests.web.conftest import age

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def price(client, **data):
    response = client.post(reverse("order_price"), data)
    assert response.status_code == 200
    return response.json()


def test_price_follows_the_quantity(client, rich, web_shop):
    client.force_login(rich)
    small = price(client, kind="smm", service=web_shop.smm.pk, quantity="1000", link="https://instagram.com/p/a")
    big = price(client, kind="smm", service=web_shop.smm.pk, quantity="5000", link="https://instagram.com/p/a")
    assert small["ok"] and big["ok"] and small["errors"] == {}
    as_int = lambda text: int(text.removeprefix("Rp ").replace(".", ""))  # noqa: E731
    assert as_int(big["charge"]) == pytest.approx(5 * as_int(small["charge"]), abs=5)
    assert "min 100, maks 10.000" in small["info"]


def test_price_before_the_link_is_typed(client, rich, web_shop):
    """The charge shows as soon as it is known; an empty field is not an error yet."""
    client.force_login(rich)
    body = price(client, kind="smm", service=web_shop.smm.pk, quantity="1000", link="")
    assert body["charge"].startswith("Rp ") and body["errors"] == {} and not body["ok"]
    body = price(client, kind="smm", service=web_shop.smm.pk, quantity="50", link="ftp://x")
    assert set(body["errors"]) == {"quantity", "link"}


def test_sms_meter(client, rich, web_shop):
    client.force_login(rich)
    body = price(client, kind="sms", sms_type="reguler", message="a" * 161, recipients="081234567890, 081234567891, 12")
    assert (body["segments"], body["encoding"], body["recipients"], body["invalid"]) == (2, "GSM-7", 2, 1)
    assert "recipients" in body["errors"]
    body = price(client, kind="sms", sms_type="reguler", message="Halo 😀", recipients="081234567890\n081234567891")
    assert body["ok"] and body["encoding"] == "UCS-2" and body["segments"] == 1
    assert body["charge"].startswith("Rp ")


def test_unavailable_products_say_why(client, rich, web_shop):
    client.force_login(rich)
    body = price(client, kind="prepaid", service=web_shop.prepaid_cutoff.pk, target="081234567890")
    assert "WIB" in body["errors"]["service"]
    body = price(client, kind="otp", service=web_shop.otp_empty.pk, operator="any")
    assert body["errors"]["service"] and not body["ok"]


def place(user, shop, kind="otp", **extra):
    requests = {
        "otp": {"kind": "otp", "service": shop.otp, "operator": "any"},
        "smm": {"kind": "smm", "service": shop.smm, "link": "https://instagram.com/p/a", "quantity": 1000},
        "prepaid": {"kind": "prepaid", "service": shop.prepaid, "target": "081234567890"},
    }
    return order_place(user, **{**requests[kind], **extra})


def status(client, order):
    response = client.get(reverse("order_status", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_status_asks_the_upstream_when_the_order_is_stale(client, rich, web_shop, upstream):
    client.force_login(rich)
    order = place(rich, web_shop)
    upstream.set_status(order.external_id, Status.PROCESSING, "Otp Diterima", otp_code="482913", sms_text="482913 kode")

    body = status(client, order)  # just placed: no upstream call yet
    assert upstream.count("statuses") == 0 and not body["final"] and "482913" not in body["html"]

    age(order, 10)
    body = status(client, order)
    assert upstream.count("statuses") == 1
    assert 'data-testid="otp-code">482913<' in body["html"] and body["status"] == "processing"
    assert 'data-copy="482913"' in body["html"]

    age(order, 10)  # asked again at most once per few seconds, however many tabs poll
    status(client, order)
    status(client, order)
    assert upstream.count("statuses") == 1


def test_status_stops_when_final(client, rich, web_shop, upstream):
    client.force_login(rich)
    order = place(rich, web_shop, "smm")
    upstream.set_status(order.external_id, Status.COMPLETED, "Completed", remains=0, start_count=120)
    age(order, 10)
    body = status(client, order)
    assert body["final"] and body["status"] == "completed"
    assert 'data-testid="smm-start">120<' in body["html"]
    detail = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert 'data-final="1"' in detail


def test_upstream_trouble_keeps_the_page_working(client, rich, web_shop, upstream):
    client.force_login(rich)
    order = place(rich, web_shop, "prepaid")
    upstream.status_error = RuntimeError("boom")
    age(order, 10)
    assert status(client, order)["status"] == "pending"


def test_cancel_otp_refunds(client, rich, web_shop, upstream):
    client.force_login(rich)
    start = balance_of(rich)
    order = place(rich, web_shop)
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="action-cancel"' in page
    response = client.post(reverse("order_action", args=[order.pk]), {"action": "cancel"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "canceled" and order.refunded == order.charge and balance_of(rich) == start
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="refunded"' in page and "action-cancel" not in page
    balance_page = client.get(reverse("balance")).content.decode()
    assert f"#{order.pk}" in balance_page


def test_actions_that_are_not_allowed_say_so(client, rich, web_shop, upstream):
    client.force_login(rich)
    order = place(rich, web_shop, "prepaid")
    for action in ("cancel", "resend", "refill", "explode", ""):
        response = client.post(reverse("order_action", args=[order.pk]), {"action": action}, follow=True)
        assert response.status_code == 200
        assert b"msg error" in response.content
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_provider_refusing_an_action_is_shown(client, rich, web_shop, upstream):
    client.force_login(rich)
    order = place(rich, web_shop)
    upstream.action_error = ProviderRejected("Gagal Cancel", provider="OTP")
    response = client.post(reverse("order_action", args=[order.pk]), {"action": "cancel"}, follow=True)
    html = response.content.decode()
    # Said in the reseller's language; the vendor's own words ("Gagal Cancel") stay in the log.
    assert "Provider menolak permintaan ini." in html and "Gagal Cancel" not in html
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_otp_with_code_offers_resend_and_done(client, rich, web_shop, upstream):
    client.force_login(rich)
    order = place(rich, web_shop)
    upstream.set_status(order.external_id, Status.PROCESSING, "Otp Diterima", otp_code="1234")
    age(order, 10)
    html = status(client, order)["html"]
    assert "action-resend" in html and "action-done" in html and "action-cancel" not in html
    client.post(reverse("order_action", args=[order.pk]), {"action": "done"})
    assert Order.objects.get(pk=order.pk).status == "completed"


def test_history_hides_internal_reasons(client, rich, web_shop, upstream):
    client.force_login(rich)
    upstream.place.append(ProviderRejected("secret-upstream-detail 5xx", provider="OTP"))
    order = place(rich, web_shop)
    html = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="history"' in html
    history = html[html.index('data-testid="history"') :]
    assert "secret-upstream-detail" not in history and "OTP" not in history.split("</ol>")[0]


def test_a_page_refresh_is_recorded_as_one_and_shares_its_slot_with_the_api(client, rich, web_shop, upstream):
    """One refresh service: the page's refresh is logged with its own code (it was once logged as "after
    expiry"), and an API client polling the same order within the window does not ask the upstream again."""
    from orders.api.catalogue import refresh_if_stale
    from orders.models import EventCode

    client.force_login(rich)
    order = place(rich, web_shop, "smm")
    upstream.set_status(order.external_id, Status.PROCESSING, "In progress", remains=400, start_count=10)
    age(order, 10)

    status(client, order)
    order.refresh_from_db()
    age(order, 10)  # stale again, but its refresh slot is taken
    refresh_if_stale([Order.objects.get(pk=order.pk)])

    assert upstream.count("statuses") == 1
    assert order.events.order_by("pk").last().code == EventCode.REFRESH_PAGE


def test_the_staleness_threshold_is_one_setting(client, rich, web_shop, upstream, settings):
    settings.ORDER_REFRESH_STALE_SECONDS = 60
    client.force_login(rich)
    order = place(rich, web_shop, "smm")
    upstream.set_status(order.external_id, Status.PROCESSING, "In progress", remains=400)

    age(order, 30)
    status(client, order)
    assert upstream.count("statuses") == 0

    age(order, 70)
    status(client, order)
    assert upstream.count("statuses") == 1
