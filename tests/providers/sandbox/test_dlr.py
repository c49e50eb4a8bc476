"""The DLR sender, called directly (no timers): shapes, recording, never raising."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from providers.sandbox import dlr
from providers.sandbox.models import DlrState, SandboxOrder


@pytest.fixture
def sms_order(make_account):
    def make(kind: str, callback_url: str, target: str = "6281234567890", outcome: str = "3") -> SandboxOrder:
        account = make_account(kind)
        return SandboxOrder.objects.create(
            account=account,
            external_id="12345001",
            target=target,
            outcome=outcome,
            cost=Decimal(70),
            callback_url=callback_url,
            dlr_at=timezone.now(),
            dlr_state=DlrState.PENDING,
        )

    return make


def test_rajasms_posts_json_once(sms_order, receiver):
    url, received = receiver
    order = sms_order("rajasms", url, target="6281234567894", outcome="4")
    assert dlr.deliver(order.pk) is True
    method, path, body = received.get(timeout=5)
    assert (method, path) == ("POST", "/dlr")
    assert json.loads(body) == {
        "sendingid": 12345001,
        "number": "6281234567894",
        "deliverystatus": 4,
        "deliverystatustext": "Delivered Error",
    }
    order.refresh_from_db()
    assert (order.dlr_state, order.dlr_http_status, order.dlr_error) == (DlrState.SENT, 200, "")
    assert order.dlr_sent_at is not None
    assert dlr.deliver(order.pk) is False and received.empty()  # at most once


def test_masking_gets_with_query(sms_order, receiver):
    url, received = receiver
    order = sms_order("masking_http", url, outcome="52")
    assert dlr.deliver(order.pk) is True
    method, path, _ = received.get(timeout=5)
    assert method == "GET"
    assert parse_qs(urlsplit(path).query) == {
        "session_id": ["12345001"],
        "error_code": ["52"],
        "error_message": ["No Charge"],
        "msisdn": ["6281234567890"],
    }


def test_unreachable_receiver_is_recorded_not_raised(sms_order):
    order = sms_order("rajasms", "http://127.0.0.1:9/dlr")
    assert dlr.deliver(order.pk) is False
    order.refresh_from_db()
    assert order.dlr_state == DlrState.FAILED and order.dlr_error


def test_sweep_arms_only_due_pending_reports(sms_order, django_capture_on_commit_callbacks, monkeypatch):
    armed: list[int] = []
    monkeypatch.setattr(dlr, "_arm", lambda order_id, due: armed.append(order_id))
    due = sms_order("rajasms", "http://x/")
    SandboxOrder.objects.create(
        account=due.account, dlr_state=DlrState.PENDING, dlr_at=timezone.now() + timedelta(hours=1)
    )
    SandboxOrder.objects.create(account=due.account, dlr_state=DlrState.SENT, dlr_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        dlr.sweep(due.account, timezone.now())
    assert armed == [due.pk]
