"""`POST /api/v2`, SMM panel API v2-compatible: documented actions, the family's optional ones, and every
refusal as HTTP 200 `{"error": ...}`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.money import ceil_rupiah, floor_money
from accounts.selectors import balance_of, ledger_violations
from accounts.services import apikey_revoke, apikey_rotate
from orders.models import Order
from providers.adapters.errors import ProviderRejected
from providers.adapters.types import Status
from tests.api.conftest import START

pytestmark = pytest.mark.django_db


def error(response, message: str) -> None:
    assert response.status_code == 200
    assert response.json() == {"error": message}


def add(api, who, catalogue, link="https://instagram.com/tokoku", quantity="1000", service=None) -> int:
    reply = api.smm(
        who.key, action="add", service=str((service or catalogue.smm).pk), link=link, quantity=quantity
    ).json()
    assert reply.get("success") is True, reply
    return int(reply["order"])


def age(*order_ids: int) -> None:
    """Make orders stale, and forget the refresh throttle: as if some seconds had passed."""
    Order.objects.filter(pk__in=order_ids).update(updated_at=timezone.now() - timedelta(seconds=60))
    cache.clear()


def test_services_in_the_documented_shape(api, api_user, catalogue, upstream):
    services = api.smm(api_user.key, action="services").json()
    by_id = {item["service"]: item for item in services}
    assert set(by_id) == {str(catalogue.smm.pk), str(catalogue.smm_plain.pk)}
    rate = catalogue.price(catalogue.smm, api_user.user)
    assert by_id[str(catalogue.smm.pk)] == {
        "service": str(catalogue.smm.pk),
        "name": "IG Followers",
        "category": "Instagram",
        "type": "Default",
        "rate": str(int(rate)),
        "min": "100",
        "max": "10000",
        "refill": True,
        "cancel": True,
    }
    plain = by_id[str(catalogue.smm_plain.pk)]
    assert (plain["refill"], plain["cancel"]) == (False, False)


def test_services_report_the_stored_type(api, api_user, catalogue, upstream):
    from providers.models import Service

    Service.objects.filter(pk=catalogue.smm.pk).update(service_type="Package")
    services = {item["service"]: item for item in api.smm(api_user.key, action="services").json()}
    assert services[str(catalogue.smm.pk)]["type"] == "Package"
    assert services[str(catalogue.smm_plain.pk)]["type"] == "Default"  # none stored: the family's default


def test_add_charges_per_thousand_at_the_resellers_rate(api, api_user, catalogue, upstream):
    reply = api.smm(
        api_user.key, action="add", service=str(catalogue.smm.pk), link="https://instagram.com/x", quantity="1234"
    ).json()
    order = Order.objects.get(pk=int(reply["order"]))
    assert reply == {"success": True, "order": str(order.pk)}
    rate = catalogue.price(catalogue.smm, api_user.user)
    assert order.charge == ceil_rupiah(rate * 1234 / 1000) and order.quantity == 1234 and order.source == "api"
    assert balance_of(api_user.user) == START - order.charge
    assert upstream.calls[0][2].link == "https://instagram.com/x"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"service": ""}, "Incorrect service ID"),
        ({"service": "abc"}, "Incorrect service ID"),
        ({"service": "424242"}, "Incorrect service ID"),
        ({"link": ""}, "Incorrect link"),
        ({"link": "instagram"}, "Incorrect link"),
        ({"link": "https://insta gram.com/x"}, "Incorrect link"),
        ({"quantity": ""}, "Incorrect request"),
        ({"quantity": "abc"}, "Incorrect request"),
        ({"quantity": "10.5"}, "Incorrect request"),
        ({"quantity": "99"}, "Quantity less than minimal 100"),
        ({"quantity": "-5"}, "Quantity less than minimal 100"),
        ({"quantity": "10001"}, "Quantity more than maximal 10000"),
        ({"runs": "5", "interval": "10"}, "This parameter is not supported"),
    ],
)
def test_add_malformed(api, api_user, catalogue, upstream, fields, message):
    form = {"service": str(catalogue.smm.pk), "link": "https://instagram.com/x", "quantity": "1000", **fields}
    error(api.smm(api_user.key, action="add", **form), message)
    assert not Order.objects.exists() and upstream.calls == []
    assert balance_of(api_user.user) == START


def test_add_with_a_service_of_another_kind(api, api_user, catalogue, upstream):
    error(
        api.smm(api_user.key, action="add", service=str(catalogue.otp.pk), link="https://x.com/a", quantity="100"),
        "Incorrect service ID",
    )


def test_add_without_funds(api, make_reseller, catalogue, upstream):
    poor = make_reseller("miskin", deposit=10)
    error(
        api.smm(
            apikey_rotate(poor), action="add", service=str(catalogue.smm.pk), link="https://x.com/a", quantity="1000"
        ),
        "Not enough funds on balance",
    )
    assert balance_of(poor) == 10


def test_add_refused_upstream_is_canceled_and_refunded(api, api_user, catalogue, upstream):
    """`add` answers with the panel's id before the provider is asked; the provider's refusal then fails
    the order with a full refund, which a shop script reads as Canceled."""
    upstream.place.append(ProviderRejected("Incorrect service ID"))
    reply = api.smm(api_user.key, action="add", service=str(catalogue.smm.pk), link="https://x.com/a", quantity="100")
    order_id = reply.json()["order"]
    assert Order.objects.get().status == "failed" and balance_of(api_user.user) == START
    assert api.smm(api_user.key, action="status", order=order_id).json()["status"] == "Canceled"


def test_status_single(api, api_user, catalogue, upstream):
    order_id = add(api, api_user, catalogue)
    order = Order.objects.get(pk=order_id)
    assert api.smm(api_user.key, action="status", order=str(order_id)).json() == {
        "charge": str(int(order.charge)),
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "IDR",
    }
    upstream.set_status("5000", Status.PROCESSING, "In progress", remains=400, start_count=1500)
    age(order_id)
    reply = api.smm(api_user.key, action="status", order=str(order_id)).json()
    assert (reply["status"], reply["remains"], reply["start_count"]) == ("In progress", "400", "1500")
    upstream.set_status("5000", Status.PARTIAL, "Partial", remains=300, start_count=1500)
    age(order_id)
    reply = api.smm(api_user.key, action="status", order=str(order_id)).json()
    assert (reply["status"], reply["remains"]) == ("Partial", "300")
    order.refresh_from_db()
    assert order.refunded > 0 and ledger_violations() == []


@pytest.mark.parametrize(
    ("status", "word"),
    [
        ("completed", "Completed"),
        ("canceled", "Canceled"),
        ("failed", "Canceled"),
        ("unknown", "Pending"),
        ("processing", "In progress"),
    ],
)
def test_status_words(api, api_user, catalogue, upstream, status, word):
    order_id = add(api, api_user, catalogue)
    Order.objects.filter(pk=order_id).update(status=status)
    assert api.smm(api_user.key, action="status", order=order_id).json()["status"] == word


DOCUMENTED_WORDS = {"Pending", "Processing", "In progress", "Completed", "Partial", "Canceled", "Error", "Refunded"}


@pytest.mark.parametrize(
    ("status", "raw", "word"),
    [
        ("processing", "Processing", "Processing"),
        ("processing", "In progress", "In progress"),
        ("processing", "", "In progress"),
        ("canceled", "Refunded", "Refunded"),
        ("canceled", "Canceled", "Canceled"),
        ("failed", "Error", "Error"),  # failed upstream after it was accepted
        ("failed", "ProviderRejected", "Canceled"),  # refused before it ran: refunded, the family's Canceled
        ("partial", "Partial", "Partial"),
        ("completed", "Completed", "Completed"),
        ("pending", "Pending", "Pending"),
    ],
)
def test_status_words_follow_the_upstreams_word(api, api_user, catalogue, upstream, status, raw, word):
    order_id = add(api, api_user, catalogue)
    Order.objects.filter(pk=order_id).update(status=status, raw_status=raw)
    single = api.smm(api_user.key, action="status", order=order_id).json()["status"]
    multi = api.smm(api_user.key, action="status", orders=str(order_id)).json()[str(order_id)]["status"]
    assert single == multi == word and word in DOCUMENTED_WORDS


def test_refunded_and_error_upstream_refund_once_and_read_back(api, api_user, catalogue, upstream):
    refunded, errored, partial = (add(api, api_user, catalogue) for _ in range(3))
    upstream.set_status("5000", Status.CANCELED, "Refunded", remains=1000)
    upstream.set_status("5001", Status.FAILED, "Error", remains=1000)
    upstream.set_status("5002", Status.PARTIAL, "Partial", remains=250, start_count=7)
    for _ in range(2):  # polled twice: the same news pays nothing twice
        age(refunded, errored, partial)
        reply = api.smm(api_user.key, action="status", orders=f"{refunded},{errored},{partial}").json()
    assert [reply[str(i)]["status"] for i in (refunded, errored, partial)] == ["Refunded", "Error", "Partial"]
    orders = {o.pk: o for o in Order.objects.filter(pk__in=[refunded, errored, partial])}
    assert orders[refunded].refunded == orders[refunded].charge
    assert orders[errored].refunded == orders[errored].charge
    assert orders[partial].refunded == floor_money(orders[partial].unit_price * 250 / 1000) > 0
    spent = sum(o.charge - o.refunded for o in orders.values())
    assert balance_of(api_user.user) == START - spent and ledger_violations() == []


def test_status_multi_keyed_by_id(api, api_user, other_user, catalogue, upstream):
    mine = [add(api, api_user, catalogue) for _ in range(2)]
    theirs = add(api, other_user, catalogue)
    ids = [str(mine[0]), str(mine[1]), str(theirs), "abc", "999999"]
    reply = api.smm(api_user.key, action="status", orders=",".join(ids)).json()
    assert list(reply) == ids
    assert reply[str(mine[0])]["status"] == "Pending" and reply[str(mine[1])]["currency"] == "IDR"
    for missing in ids[2:]:
        assert reply[missing] == {"error": "Incorrect order ID"}


def test_status_multi_refreshes_in_one_batch(api, api_user, catalogue, upstream):
    first, second = add(api, api_user, catalogue), add(api, api_user, catalogue)
    upstream.set_status("5000", Status.COMPLETED, "Completed", remains=0, start_count=10)
    upstream.set_status("5001", Status.CANCELED, "Canceled", remains=1000)
    age(first, second)
    reply = api.smm(api_user.key, action="status", orders=f"{first},{second}").json()
    assert (reply[str(first)]["status"], reply[str(second)]["status"]) == ("Completed", "Canceled")
    assert upstream.count("statuses") == 1
    assert balance_of(api_user.user) == START - Order.objects.get(pk=first).charge


@pytest.mark.parametrize(
    "fields", [{}, {"order": ""}, {"orders": ""}, {"orders": ",".join(str(i) for i in range(1, 102))}]
)
def test_status_malformed(api, api_user, catalogue, upstream, fields):
    error(api.smm(api_user.key, action="status", **fields), "Incorrect request")


def test_status_of_another_resellers_order(api, api_user, other_user, catalogue, upstream):
    theirs = add(api, other_user, catalogue)
    error(api.smm(api_user.key, action="status", order=str(theirs)), "Incorrect order ID")
    error(api.smm(api_user.key, action="status", order="nope"), "Incorrect order ID")


def test_balance(api, api_user, catalogue, upstream):
    assert api.smm(api_user.key, action="balance").json() == {"balance": "1000000.00", "currency": "IDR"}
    add(api, api_user, catalogue)
    spent = Order.objects.get().charge
    assert api.smm(api_user.key, action="balance").json()["balance"] == f"{START - spent:.2f}"


def test_cancel_list(api, api_user, catalogue, upstream):
    cancellable = add(api, api_user, catalogue)
    plain = add(api, api_user, catalogue, service=catalogue.smm_plain)
    done = add(api, api_user, catalogue)
    Order.objects.filter(pk=done).update(status="completed")
    reply = api.smm(api_user.key, action="cancel", orders=f"{cancellable},{plain},{done},77777").json()
    assert reply == [
        {"order": cancellable, "cancel": 1},
        {"order": plain, "cancel": {"error": "Cancel is not available for this service"}},
        {"order": done, "cancel": {"error": "Order can not be canceled"}},
        {"order": 77777, "cancel": {"error": "Incorrect order ID"}},
    ]
    assert upstream.count("cancel") == 1
    # the upstream confirms on the next refresh: then the reseller is refunded in full
    upstream.set_status("5000", Status.CANCELED, "Canceled", remains=1000)
    age(cancellable)
    assert api.smm(api_user.key, action="status", order=cancellable).json()["status"] == "Canceled"
    order = Order.objects.get(pk=cancellable)
    assert order.refunded == order.charge


def test_cancel_single_order_form_and_upstream_refusal(api, api_user, catalogue, upstream):
    order_id = add(api, api_user, catalogue)
    upstream.action_error = ProviderRejected("Order can not be canceled")
    assert api.smm(api_user.key, action="cancel", order=str(order_id)).json() == [
        {"order": order_id, "cancel": {"error": "Order can not be canceled"}}
    ]
    error(api.smm(api_user.key, action="cancel"), "Incorrect request")


def test_refill_and_refill_status(api, api_user, catalogue, upstream, monkeypatch):
    order_id = add(api, api_user, catalogue)
    error(api.smm(api_user.key, action="refill", order=str(order_id)), "Order is not completed yet")
    Order.objects.filter(pk=order_id).update(status="completed")
    assert api.smm(api_user.key, action="refill", order=str(order_id)).json() == {"refill": str(order_id)}
    assert Order.objects.get(pk=order_id).refill_id == "R1"

    from providers.adapters.types import RefillResult
    from tests.orders.fakes import FakeAdapter

    monkeypatch.setattr(
        FakeAdapter, "refill_status", lambda self, refill_id: RefillResult(refill_id, "In progress"), raising=False
    )
    assert api.smm(api_user.key, action="refill_status", refill=str(order_id)).json() == {"status": "In progress"}
    error(api.smm(api_user.key, action="refill_status", refill="31337"), "Incorrect refill ID")
    assert api.smm(api_user.key, action="refill_status", refills=f"{order_id},31337").json() == [
        {"refill": order_id, "status": "In progress"},
        {"refill": 31337, "status": {"error": "Incorrect refill ID"}},
    ]
    plain = add(api, api_user, catalogue, service=catalogue.smm_plain)
    assert api.smm(api_user.key, action="refill", orders=f"{order_id},{plain},x").json() == [
        {"order": order_id, "refill": str(order_id)},
        {"order": plain, "refill": {"error": "Refill is not available for this service"}},
        {"order": "x", "refill": {"error": "Incorrect order ID"}},
    ]
    error(api.smm(api_user.key, action="refill"), "Incorrect request")
    error(api.smm(api_user.key, action="refill_status"), "Incorrect request")


def test_bearer_header_authenticates(api, api_user, catalogue, upstream):
    reply = api.smm(None, headers={"Authorization": f"Bearer {api_user.key}"}, action="balance").json()
    assert reply["currency"] == "IDR"
    error(
        api.smm(None, headers={"Authorization": "Bearer wrong-key-000000000000"}, action="balance"), "Invalid API key"
    )


@pytest.mark.parametrize("action", ["", "add_order", "Services", "refund"])
def test_unknown_action(api, api_user, action):
    error(api.smm(api_user.key, action=action), "Incorrect request")


def test_wrong_missing_revoked_and_staff_keys(api, api_user, operator):
    error(api.smm("0" * 48, action="balance"), "Invalid API key")
    error(api.smm(None, action="balance"), "Invalid API key")
    staff_key = apikey_rotate(operator)
    error(api.smm(staff_key, action="balance"), "Invalid API key")
    apikey_revoke(api_user.user)
    error(api.smm(api_user.key, action="balance"), "Invalid API key")


def test_inactive_reseller_is_refused(api, api_user):
    type(api_user.user).objects.filter(pk=api_user.user.pk).update(is_active=False)
    error(api.smm(api_user.key, action="balance"), "Invalid API key")


def test_get_and_trailing_slash(api, api_user):
    response = api.client.get("/api/v2", {"key": api_user.key, "action": "balance"})
    assert response.status_code == 405 and response.json() == {"error": "Incorrect request"}
    assert api.client.post("/api/v2/", {"key": api_user.key, "action": "balance"}).status_code == 404


def test_charge_keeps_decimals_when_there_are_any(api, api_user, catalogue, upstream):
    order_id = add(api, api_user, catalogue)
    Order.objects.filter(pk=order_id).update(charge=Decimal("1455.50"))
    assert api.smm(api_user.key, action="status", order=order_id).json()["charge"] == "1455.50"
