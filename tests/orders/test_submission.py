"""Orders never wait on upstreams: acceptance apart from submission, claims, interrupted sends, the sweep,
and the provider guard (bulkhead + breaker) on the paths that still call upstream in the request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from accounts.selectors import balance_of, ledger_violations
from orders.models import Order
from orders.placement import order_place
from orders.quotes import OrderInvalid
from orders.submission import (
    ACCEPTED,
    DEFERRED,
    FAILED,
    new_claim,
    orders_claim,
    orders_give_up,
    submissions_sweep,
)
from orders.submitter import lease_acquire, lease_release, submit_orders, submit_pending
from providers.adapters.errors import ProviderCircuitOpen, ProviderRejected
from providers.adapters.guard import CLOSED, HALF_OPEN, OPEN
from providers.services import provider_guard

START = 1_000_000
SMM = {"link": "https://instagram.com/tokoku", "quantity": 1000}


def place_smm(shop, buyer, **extra) -> Order:
    return order_place(buyer, kind="smm", service=shop.smm, **SMM, **extra)


def trip(provider) -> None:
    guard = provider_guard(provider)
    for _ in range(guard.limits.failures):
        guard.record(ok=False)


# --- acceptance with the worker stopped -------------------------------------------------------------------
@pytest.mark.worker_stopped
def test_accepted_orders_wait_with_their_money_held(shop, upstream, buyer):
    smm = place_smm(shop, buyer)
    prepaid = order_place(buyer, kind="prepaid", service=shop.prepaid, target="081211112222")
    sms = order_place(buyer, kind="sms", sms_type="reguler", message="Halo", recipients="081234567890")
    orders = [smm, prepaid, sms]
    assert [o.status for o in orders] == ["submitting"] * 3
    assert upstream.calls == []  # nothing went upstream in the request
    assert balance_of(buyer) == START - sum(o.charge for o in orders)
    assert ledger_violations() == []

    stats = submit_pending()  # the worker comes back
    assert stats.outcomes == {ACCEPTED: 3} and upstream.count("place") == 3
    assert [Order.objects.get(pk=o.pk).status for o in orders] == ["pending", "pending", "processing"]
    assert submit_pending().outcomes == {}  # nothing is sent twice
    assert upstream.count("place") == 3 and ledger_violations() == []


@pytest.mark.worker_stopped
def test_refusal_found_by_the_worker_refunds_once(shop, upstream, buyer):
    order = place_smm(shop, buyer)
    upstream.place.append(ProviderRejected("Link tidak valid"))
    assert submit_pending().outcomes == {FAILED: 1}
    order.refresh_from_db()
    assert order.status == "failed" and order.refunded == order.charge and balance_of(buyer) == START
    submit_pending()
    submissions_sweep(now=timezone.now() + timedelta(hours=1))
    order.refresh_from_db()
    assert order.refunded == order.charge and balance_of(buyer) == START and ledger_violations() == []


# --- claims and interrupted sends ---------------------------------------------------------------------------
@pytest.mark.worker_stopped
def test_a_claimed_order_is_sent_by_its_claimant_only(shop, upstream, buyer):
    order = place_smm(shop, buyer)
    first = orders_claim(order.provider_id, 10, new_claim())
    assert [o.pk for o in first] == [order.pk]
    assert orders_claim(order.provider_id, 10, new_claim()) == []  # a second sender finds nothing to take
    assert submit_pending().outcomes == {}
    assert upstream.calls == []


@pytest.mark.worker_stopped
def test_a_send_killed_midway_becomes_unknown_and_is_never_resent(shop, upstream, buyer):
    """The worker took the order and died during the call: the provider may have it. The sweep marks it
    unknown (no refund, reconciled), and no later run sends it again."""
    order = place_smm(shop, buyer)
    orders_claim(order.provider_id, 10, new_claim())  # ... and the process is killed here
    assert submissions_sweep() == {"interrupted": 0, "waiting": 0}  # too early to tell
    later = timezone.now() + timedelta(minutes=10)
    assert submissions_sweep(now=later) == {"interrupted": 1, "waiting": 0}
    order.refresh_from_db()
    assert order.status == "unknown" and order.refunded == 0
    assert balance_of(buyer) == START - order.charge
    assert submit_pending().outcomes == {} and upstream.calls == []
    assert ledger_violations() == []


@pytest.mark.worker_stopped
def test_a_lost_kick_is_caught_by_the_sweep(shop, upstream, buyer):
    order = place_smm(shop, buyer)  # accepted; the queue lost the submitter's task
    assert submissions_sweep()["waiting"] == 1
    submit_pending()
    order.refresh_from_db()
    assert order.status == "pending" and upstream.count("place") == 1


# --- the breaker in the worker ------------------------------------------------------------------------------
@pytest.mark.worker_stopped
def test_open_breaker_holds_orders_back_then_gives_up_with_a_refund(shop, upstream, buyer, settings):
    order = place_smm(shop, buyer)
    trip(order.provider)
    assert submit_pending().outcomes == {DEFERRED: 1}
    order.refresh_from_db()
    assert (order.status, order.submit_claim) == ("submitting", "")  # released, untouched upstream
    assert upstream.calls == []
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert orders_give_up(order.provider_id, new_claim()) == 1
    order.refresh_from_db()
    assert order.status == "failed" and order.refunded == order.charge and balance_of(buyer) == START
    assert upstream.calls == [] and ledger_violations() == []


@pytest.mark.worker_stopped
def test_sms_moves_to_the_next_route_when_its_gateways_breaker_is_open(shop, upstream, buyer):
    order = order_place(buyer, kind="sms", sms_type="masking", message="Halo", recipients="081234567890")
    first = order.provider
    trip(first)
    submit_pending()
    order.refresh_from_db()
    assert order.status == "processing" and order.provider_id != first.pk


# --- the lease ----------------------------------------------------------------------------------------------
def test_one_submitter_at_a_time(db):
    holder = new_claim()
    assert lease_acquire(holder)
    assert submit_orders(budget=1, linger=0).busy  # a second run leaves at once
    assert lease_acquire(holder)  # the holder renews
    lease_release(holder)
    assert not submit_orders(budget=1, linger=0).busy


# --- the guard on what still calls upstream in the request ----------------------------------------------
def test_otp_refused_at_once_while_the_breaker_is_open(shop, upstream, buyer):
    trip(shop.otp.provider)
    with pytest.raises(OrderInvalid) as caught:
        order_place(buyer, kind="otp", service=shop.otp)
    assert isinstance(caught.value.__cause__, ProviderCircuitOpen)
    assert not Order.objects.exists() and balance_of(buyer) == START and upstream.calls == []


def test_otp_refused_at_once_when_the_bulkhead_is_full(shop, upstream, buyer, settings):
    settings.PROVIDER_MAX_IN_FLIGHT = 1
    inside, leave = threading.Event(), threading.Event()
    guard = provider_guard(shop.otp.provider)

    def hold_the_only_slot():
        with guard.slot():
            inside.set()
            leave.wait(10)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    try:
        assert inside.wait(5)
        with pytest.raises(OrderInvalid, match=r"busy|sibuk"):
            order_place(buyer, kind="otp", service=shop.otp)
    finally:
        leave.set()
        holder.join()
    assert not Order.objects.exists() and balance_of(buyer) == START and upstream.calls == []
    order = order_place(buyer, kind="otp", service=shop.otp)  # the slot is free again
    assert order.status == "pending"


def test_breaker_opens_half_opens_and_closes(shop, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("providers.adapters.guard.time.monotonic", lambda: now[0])
    guard = provider_guard(shop.smm.provider)
    for _ in range(guard.limits.failures - 1):
        guard.record(ok=False)
    assert guard.state == CLOSED
    guard.record(ok=True)  # a success resets the count
    trip(shop.smm.provider)
    assert guard.state == OPEN
    with pytest.raises(ProviderCircuitOpen), guard.slot():
        pass
    now[0] += guard.limits.reset_seconds
    assert guard.state == HALF_OPEN
    with guard.slot():  # the one trial call
        meanwhile: list[BaseException] = []

        def another_caller():
            try:
                with guard.slot():
                    pass
            except ProviderCircuitOpen as exc:
                meanwhile.append(exc)

        other = threading.Thread(target=another_caller)
        other.start()
        other.join()
        assert len(meanwhile) == 1  # nobody else goes through meanwhile
        guard.record(ok=False)  # the trial failed: open again
    assert guard.state == OPEN
    now[0] += guard.limits.reset_seconds
    with guard.slot():
        guard.record(ok=True)
    assert guard.state == CLOSED


def test_a_trial_slot_left_without_a_call_is_given_back(shop, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("providers.adapters.guard.time.monotonic", lambda: now[0])
    guard = provider_guard(shop.smm.provider)
    trip(shop.smm.provider)
    now[0] += guard.limits.reset_seconds
    with guard.slot():
        pass  # e.g. the order was refused before its call
    with guard.slot():  # the trial is available again
        guard.record(ok=True)
    assert guard.state == CLOSED


@pytest.mark.worker_stopped
def test_the_command_sends_what_waits(shop, upstream, buyer, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    import orders.management.commands.orders_submit as command

    monkeypatch.setattr(command, "submit_orders", lambda: submit_pending())  # in this thread: the test's data
    place_smm(shop, buyer)
    out = StringIO()
    call_command("orders_submit", stdout=out)
    assert out.getvalue().strip() == "1 accepted; 0 interrupted sends marked unknown"
    assert upstream.count("place") == 1


@pytest.mark.worker_stopped
def test_a_run_does_not_spin_on_orders_an_open_breaker_holds(shop, upstream, buyer, monkeypatch):
    """Orders of a provider whose breaker is open wait for the every-minute schedule: the run ends instead
    of looping on them until its budget is spent, and queues no follow-up run for them."""
    kicks = []
    monkeypatch.setattr("orders.submitter.kick", lambda force=False: kicks.append(force))
    order = place_smm(shop, buyer)
    trip(order.provider)
    stats = submit_orders(budget=0.5, linger=0.05)
    assert (stats.again, kicks, stats.outcomes) == (False, [], {})
    order.refresh_from_db()
    assert order.status == "submitting" and upstream.calls == []


# --- refusals whose meaning the adapter read (VirtuSIM's documented messages) -------------------------------
@pytest.mark.parametrize(
    ("text", "refusal", "shown", "in_stock", "offered", "operator_sees"),
    [
        ("Layanan tidak tersedia", "out_of_stock", "No numbers are available", False, True, False),
        ("Layanan tidak ditemukan", "no_service", "no longer offered", True, False, True),
        ("Jumlah pesan tidak sesuai", "limit", "too many orders", True, True, False),
        ("Saldo tidak cukup", "provider_funds", "temporarily unavailable", True, True, True),
        ("API Key salah", "auth", "temporarily unavailable", True, True, True),
        ("Permintaan tidak sesuai", "bad_request", "temporarily unavailable", True, True, True),
    ],
)
def test_otp_refusals_are_acted_on_by_meaning(
    shop, upstream, buyer, text, refusal, shown, in_stock, offered, operator_sees
):
    from providers.adapters.errors import Refusal

    upstream.place.append(ProviderRejected(text, provider="OTP", refusal=Refusal(refusal)))
    with translation.override("en"):  # the message is written in the active language
        order = order_place(buyer, kind="otp", service=shop.otp, operator="any")
    assert order.status == "failed" and order.refunded == order.charge
    assert shown in order.error and text not in order.error  # the vendor's words never reach the reseller
    shop.otp.refresh_from_db()
    assert (shop.otp.in_stock, shop.otp.is_active) == (in_stock, offered)
    shop.otp.provider.refresh_from_db()
    assert (text in shop.otp.provider.last_error) is operator_sees
    assert balance_of(buyer) == START and ledger_violations() == []


def test_a_refusal_without_meaning_keeps_the_vendor_reason(shop, upstream, buyer):
    upstream.place.append(ProviderRejected("Server sedang maintenance", provider="OTP"))
    with translation.override("en"):
        order = order_place(buyer, kind="otp", service=shop.otp, operator="any")
    assert order.status == "failed" and "Server sedang maintenance" in order.error
    shop.otp.refresh_from_db()
    assert shop.otp.in_stock and shop.otp.is_active
