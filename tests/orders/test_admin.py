from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.selectors import balance_of
from orders.models import Order
from orders.placement import order_place
from providers.adapters.errors import ProviderOutcomeUnknown
from providers.adapters.types import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def unknown_order(shop, upstream, buyer):
    upstream.place.append(ProviderOutcomeUnknown("lost"))
    return order_place(buyer, kind="smm", service=shop.smm, link="https://instagram.com/a", quantity=100)


def test_changelist_filters(client, operator, unknown_order):
    client.force_login(operator)
    url = reverse("admin:orders_order_changelist")
    for params in (
        {"status__exact": "unknown"},
        {"kind__exact": "smm"},
        {"q": "pembeli"},
        {"provider__id__exact": unknown_order.provider_id},
    ):
        response = client.get(url, params)
        assert response.status_code == 200 and f">{unknown_order.pk}<" in response.content.decode()
    detail = client.get(reverse("admin:orders_order_change", args=[unknown_order.pk]))
    assert detail.status_code == 200


def test_resolve_as_failed_refunds_once_and_is_audited(client, operator, unknown_order, buyer):
    client.force_login(operator)
    url = reverse("admin:orders_order_changelist")
    for _ in range(2):
        client.post(url, {"action": "resolve_failed", "_selected_action": [unknown_order.pk]})
    unknown_order.refresh_from_db()
    assert unknown_order.status == "failed" and unknown_order.refunded == unknown_order.charge
    assert balance_of(buyer) == Decimal("1000000.00")
    event = unknown_order.events.get(to_status="failed")
    assert event.actor == operator and "operator" in event.reason


def test_resolve_as_placed_attaches_id_then_refresh_takes_over(client, operator, unknown_order, upstream):
    client.force_login(operator)
    url = reverse("admin:orders_order_changelist")
    form = client.post(url, {"action": "resolve_placed", "_selected_action": [unknown_order.pk]})
    assert form.status_code == 200 and b"external_id" in form.content
    client.post(
        url, {"action": "resolve_placed", "_selected_action": [unknown_order.pk], "apply": "1", "external_id": "UP-77"}
    )
    unknown_order.refresh_from_db()
    assert (unknown_order.status, unknown_order.external_id) == ("pending", "UP-77")
    assert unknown_order.events.get(to_status="pending").actor == operator
    upstream.set_status("UP-77", Status.COMPLETED)
    client.post(url, {"action": "refresh_now", "_selected_action": [unknown_order.pk]})
    assert Order.objects.get(pk=unknown_order.pk).status == "completed"


def test_orders_are_read_only_in_admin(client, operator, unknown_order):
    client.force_login(operator)
    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    client.post(reverse("admin:orders_order_change", args=[unknown_order.pk]), {"charge": "1"})
    unknown_order.refresh_from_db()
    assert unknown_order.charge != Decimal("1")
