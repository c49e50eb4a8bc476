import json
from pathlib import Path

import pytest
from django.test import Client

from orders.models import CallbackEvent
from providers.services import provider_callback_url

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def path_of(provider) -> str:
    return provider_callback_url(provider).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_rajasms_json_callback_is_recorded_once(client: Client, raja_provider):
    body = (FIXTURES / "rajasms" / "callback_single.json").read_text()
    url = path_of(raja_provider)
    for _ in range(3):  # the gateway retries: still one event
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert (event.external_id, event.state, event.code, event.number) == ("12345788", "delivered", "3", "6281234567890")


def test_masking_get_callback_is_recorded(client: Client, masking_provider):
    params = json.loads((FIXTURES / "masking_http" / "dlr_22.json").read_text())
    response = client.get(path_of(masking_provider), params)
    assert response.status_code == 200
    assert CallbackEvent.objects.get().state == "delivered"


def test_wrong_token_or_provider_is_404(client: Client, raja_provider):
    assert (
        client.post(f"/callbacks/{raja_provider.pk}/{'0' * 40}/", "{}", content_type="application/json").status_code
        == 404
    )
    good = raja_provider.callback_token
    assert client.post(f"/callbacks/99999/{good}/", "{}", content_type="application/json").status_code == 404
    assert not CallbackEvent.objects.exists()


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"sendingid": 1}', '{"number": "62", "deliverystatus": "x"}'])
def test_malformed_payload_is_400(client: Client, raja_provider, body):
    response = client.post(path_of(raja_provider), body, content_type="application/json")
    assert response.status_code == 400
    assert not CallbackEvent.objects.exists()


def test_masking_callback_missing_fields_is_400(client: Client, masking_provider):
    assert client.get(path_of(masking_provider), {"session_id": "1"}).status_code == 400


def test_callback_only_accepts_get_and_post(client: Client, raja_provider):
    assert client.put(path_of(raja_provider), "{}").status_code == 405


@pytest.mark.worker_stopped
def test_a_report_is_stored_and_answered_at_once_then_applied_by_the_worker(
    client: Client, shop, upstream, buyer, django_capture_on_commit_callbacks, monkeypatch
):
    """The callback view only stores the report and queues one task; the worker applies it. Before and
    after the send's reply: a report for ids not stored yet waits for them (tests/orders/test_e2e_sandbox)."""
    from orders.delivery import callbacks_apply
    from orders.placement import order_place
    from orders.submitter import submit_pending
    from providers.adapters.rajasms import RajaSmsAdapter
    from tests.orders.fakes import FakeAdapter

    monkeypatch.setattr(FakeAdapter, "parse_callback", lambda self, *a: RajaSmsAdapter(self.config).parse_callback(*a))
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *a, **k: queued.append(func))
    order = order_place(buyer, kind="sms", sms_type="reguler", message="Halo", recipients="081234567890")
    body = json.dumps({"sendingid": "5000-0", "number": "6281234567890", "deliverystatus": 3})
    url = path_of(order.provider)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, body, content_type="application/json").status_code == 200  # before the send
    assert queued == ["orders.tasks.apply_callbacks"]
    assert callbacks_apply() == 0  # no recipient has that id yet: the report waits
    submit_pending()  # the send's reply stores the ids
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, body, content_type="application/json").status_code == 200  # a retry: stored once
    assert CallbackEvent.objects.count() == 1
    recipient = order.recipients.get()
    assert recipient.state == "queued"  # nothing applied in the request
    assert callbacks_apply() == 1
    recipient.refresh_from_db()
    order.refresh_from_db()
    assert recipient.state == "delivered" and order.status == "completed"
