"""Delivery reports of sends through `/api/masking/` forwarded to the URL the reseller saved on their API
page, as the masking gateway's "Callable API DLR" GET (provider-docs 003): session_id, error_code,
error_message, msisdn. Same machinery as RajaSMS forwarding (tests/api/test_forwarding.py): after commit,
short timeouts, retries with backoff, no internal addresses."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from accounts.models import ApiKey
from orders.delivery import callbacks_apply
from orders.forwarding import forward_reports, masking_report
from orders.models import CallbackEvent, Order
from providers.adapters.types import DeliveryState, PlacedOrder, RecipientResult, Status
from tests.api.helpers import callback_receiver

pytestmark = pytest.mark.django_db
NUMBERS = ("6281234567890", "6281234567891", "6281234567892", "6281234567893")


@pytest.fixture
def sync_tasks(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    settings.SANDBOX_ENABLED = True  # the receiver listens on 127.0.0.1
    return settings


def save_url(who, url: str) -> None:
    ApiKey.objects.filter(user=who.user).update(masking_callback_url=url)


def masking_sends(api, who, numbers=NUMBERS) -> list[Order]:
    """One send per number through send.php; each is its own order with one recipient (the new orders)."""
    before = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for number in numbers:
        reply = api.masking("send", who, hp=number, message="Halo").content.decode()
        assert reply.isdigit(), reply
    return list(Order.objects.filter(user=who.user, pk__gt=before).order_by("pk"))


def report(order: Order, state: str, code: str) -> None:
    recipient = order.recipients.get()
    CallbackEvent.objects.create(
        provider=order.provider, external_id=recipient.external_id, number=recipient.number, state=state, code=code
    )


def test_reports_are_forwarded_as_the_gateways_dlr_get(
    api, api_user, catalogue, upstream, sync_tasks, django_capture_on_commit_callbacks
):
    with callback_receiver("/dlr/delivreq.php?token=abc") as receiver:
        save_url(api_user, receiver.url)
        orders = masking_sends(api, api_user)
        for order, (state, code) in zip(
            orders, [("delivered", "3"), ("sent", "2"), ("rejected", "7"), ("failed", "4")], strict=True
        ):
            report(order, state, code)
        with django_capture_on_commit_callbacks(execute=True):
            callbacks_apply()
        received = sorted(receiver.bodies(), key=lambda item: item["query"]["session_id"])
    ids = [str(order.recipients.get().pk) for order in orders]
    assert all(item["method"] == "GET" and item["path"].startswith("/dlr/delivreq.php?token=abc&") for item in received)
    assert [item["query"] for item in received] == [
        {"token": "abc", "session_id": ids[0], "error_code": "22", "error_message": "Delivered", "msisdn": NUMBERS[0]},
        {"token": "abc", "session_id": ids[1], "error_code": "20", "error_message": "Pending", "msisdn": NUMBERS[1]},
        {"token": "abc", "session_id": ids[2], "error_code": "52", "error_message": "No Charge", "msisdn": NUMBERS[2]},
        {"token": "abc", "session_id": ids[3], "error_code": "50", "error_message": "Failed", "msisdn": NUMBERS[3]},
    ]
    # the rejected SMS was refunded, the failed one (sent, charged) not
    refunded = {order.pk: order.refunded for order in Order.objects.filter(pk__in=[o.pk for o in orders])}
    assert refunded[orders[2].pk] == orders[2].charge and refunded[orders[3].pk] == 0


def test_the_url_is_the_one_saved_when_the_sms_was_sent(api, api_user, catalogue, upstream, sync_tasks):
    with callback_receiver() as first, callback_receiver() as second:
        save_url(api_user, first.url)
        (order,) = masking_sends(api, api_user, NUMBERS[:1])
        save_url(api_user, second.url)
        (later,) = masking_sends(api, api_user, NUMBERS[1:2])
        for sent in (order, later):
            sent.recipients.update(state=DeliveryState.DELIVERED)
            assert forward_reports(sent.pk, list(sent.recipients.values_list("pk", flat=True))) == "1 sent"
        assert [item["query"]["msisdn"] for item in first.bodies()] == [NUMBERS[0]]
        assert [item["query"]["msisdn"] for item in second.bodies()] == [NUMBERS[1]]


def test_without_a_saved_url_nothing_is_queued(api, api_user, catalogue, upstream, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    (order,) = masking_sends(api, api_user, NUMBERS[:1])
    assert order.client_callback_url == ""
    report(order, "delivered", "3")
    callbacks_apply()
    assert queued == []


def test_a_queued_sms_has_nothing_to_report(api, api_user, catalogue, upstream, sync_tasks):
    with callback_receiver() as receiver:
        save_url(api_user, receiver.url)
        (order,) = masking_sends(api, api_user, NUMBERS[:1])
        recipient = order.recipients.get()
        assert recipient.state == DeliveryState.QUEUED and masking_report(recipient) is None
        assert forward_reports(order.pk, [recipient.pk]) == "nothing to forward"
        assert receiver.received.empty()


def test_a_state_in_the_gateways_reply_is_forwarded(
    api, api_user, catalogue, upstream, sync_tasks, django_capture_on_commit_callbacks
):
    """The gateway refused the number when the worker sent it: reported at once as 52 No Charge."""
    upstream.place.append(
        lambda request: PlacedOrder(
            "1",
            Status.PROCESSING,
            "",
            recipients=(RecipientResult(request.recipients[0], "", DeliveryState.REJECTED, "", "Invalid Number"),),
        )
    )
    with callback_receiver() as receiver:
        save_url(api_user, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            masking_sends(api, api_user, NUMBERS[:1])
        (item,) = receiver.bodies()
    assert (item["query"]["error_code"], item["query"]["error_message"]) == ("52", "No Charge")


def test_failed_reports_are_retried_with_backoff(api, api_user, catalogue, upstream, settings):
    settings.SANDBOX_ENABLED = True
    with callback_receiver() as receiver:
        save_url(api_user, receiver.url)
        (order,) = masking_sends(api, api_user, NUMBERS[:1])
        order.recipients.update(state=DeliveryState.DELIVERED)
        ids = list(order.recipients.values_list("pk", flat=True))
        receiver.status = 503
        assert forward_reports(order.pk, ids) == "0 sent, 1 failed (attempt 1, retry scheduled)"
        assert Schedule.objects.get().args == str((order.pk, ids, 2))
        receiver.status = 200
        assert forward_reports(order.pk, ids, 2) == "1 sent"


def test_an_internal_address_is_never_called(api, api_user, catalogue, upstream, settings):
    settings.SANDBOX_ENABLED, settings.DEBUG = False, False
    with callback_receiver() as receiver:
        save_url(api_user, receiver.url)  # saved behind the form's back: the send-time guard still refuses
        (order,) = masking_sends(api, api_user, NUMBERS[:1])
        order.recipients.update(state=DeliveryState.DELIVERED)
        summary = forward_reports(order.pk, list(order.recipients.values_list("pk", flat=True)))
        assert summary.startswith("refused:") and receiver.received.empty()
    assert not Schedule.objects.exists()


def test_rajasms_orders_keep_their_json_post(api, api_user, catalogue, upstream, sync_tasks):
    """The masking shape is chosen per order: a RajaSMS send of the same reseller still gets its JSON."""
    with callback_receiver() as receiver:
        save_url(api_user, receiver.url)
        body = {
            "apikey": api_user.key,
            "callbackurl": receiver.url,
            "datapacket": [{"number": NUMBERS[0], "message": "x"}],
        }
        api.packets(api.raja("reguler", body))
        order = Order.objects.get()
        assert order.client_protocol == ""
        order.recipients.update(state=DeliveryState.DELIVERED)
        forward_reports(order.pk, list(order.recipients.values_list("pk", flat=True)))
        (item,) = receiver.bodies()
    assert item["json"]["sendingid"] == order.recipients.get().pk and "query" not in item
