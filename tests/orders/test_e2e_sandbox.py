"""Every order kind end to end against the upstream simulator over real HTTP (`live_server`).

Placement, refresh ticks, reseller actions, OTP expiry, delivery callbacks (POSTed / GET to the panel's
`/callbacks/...` on the live server) and report polling, each to its final state, checking the status,
the reseller's exact balance (start - charge + refund) and the ledger invariants. Time passes by moving
timestamps back (see tests/orders/sandbox_shop.py), never by sleeping.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.money import floor_money
from accounts.selectors import balance_of, ledger_violations
from orders import submission
from orders.delivery import callbacks_apply, reports_poll
from orders.models import CallbackEvent, Order
from orders.placement import order_place
from orders.refresh import otp_expire, refresh_tick
from orders.services import OrderActionError, order_action
from providers.models import Service
from providers.pricing import pricing_refresh
from providers.sandbox import dlr
from providers.sandbox.models import DlrState, SandboxAccount, SandboxOrder
from providers.sandbox.protocols.virtusim import otp_sms
from tests.orders.sandbox_shop import (
    LONG_DLR,
    STEP,
    age_orders,
    deliver_due_reports,
    expected_refund,
    open_shop,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)
START = Decimal("1000000.00")


@pytest.fixture
def shop(live_server, settings):
    return open_shop(live_server.url, settings)


def settle_check(buyer, *orders: Order) -> None:
    """Balance = start - charges + refunds, each refund is what the rules say, the books are clean."""
    for order in orders:
        order.refresh_from_db()
        assert order.refunded == expected_refund(order), order
        refunds = LedgerEntry.objects.filter(order_id=order.pk, kind="refund")
        assert refunds.count() == (1 if order.refunded else 0)
    assert balance_of(buyer) == START - sum(o.charge for o in orders) + sum(o.refunded for o in orders)
    assert ledger_violations() == []


def upstream_of(shop, kind: str, order: Order) -> SandboxOrder:
    return SandboxOrder.objects.get(account=shop.accounts[kind], external_id=order.external_id)


# --- OTP (VirtuSIM) ---------------------------------------------------------------------------------
def test_otp_code_arrives_then_done(shop, buyer):
    order = order_place(buyer, **shop.otp_request())
    upstream = upstream_of(shop, "virtusim", order)
    assert (order.status, order.target) == ("pending", upstream.target)
    assert order.charge > order.cost > 0

    refresh_tick()  # no code yet
    order.refresh_from_db()
    assert (order.status, order.otp_code) == ("pending", "")

    shop.pass_time(STEP + 1, "virtusim")
    stats = refresh_tick()
    order.refresh_from_db()
    code = re.search(r"\d{4,8}", otp_sms(upstream.pk, 0)).group()
    assert (order.status, order.otp_code, order.raw_status) == ("processing", code, "Otp Diterima")
    assert stats.errors == [] and stats.changed == 1
    with pytest.raises(OrderActionError):
        order_action(buyer, order, "cancel")  # the number was used

    assert order_action(buyer, order, "done").ok
    order.refresh_from_db()
    assert order.status == "completed" and order.finished_at is not None
    assert upstream_of(shop, "virtusim", order).closed_status == "Success"
    settle_check(buyer, order)
    assert order.refunded == 0


def test_otp_canceled_before_the_code_is_refunded_in_full(shop, buyer):
    order = order_place(buyer, **shop.otp_request())
    assert order_action(buyer, order, "cancel").ok
    order.refresh_from_db()
    assert order.status == "canceled" and order.refunded == order.charge
    assert upstream_of(shop, "virtusim", order).closed_status == "Error"
    refresh_tick()  # a later tick changes nothing: canceled orders are not asked about again
    settle_check(buyer, order)
    assert balance_of(buyer) == START


def test_otp_without_a_code_expires_canceled_and_refunded(shop, buyer):
    SandboxAccount.objects.filter(pk=shop.accounts["virtusim"].pk).update(otp_delay_seconds=-1)
    order = order_place(buyer, **shop.otp_request())
    keeper = order_place(buyer, **shop.otp_request(shop.otp_services[1]))  # young: not expired
    shop.pass_time(600, "virtusim")
    refresh_tick()
    assert otp_expire() == 0  # inside the window

    age_orders((django_settings.OTP_EXPIRY_MINUTES + 1) * 60, pk=order.pk)
    assert otp_expire() == 1
    order.refresh_from_db()
    keeper.refresh_from_db()
    assert order.status == "canceled" and order.refunded == order.charge and order.otp_code == ""
    assert upstream_of(shop, "virtusim", order).closed_status == "Error"
    assert keeper.status == "pending"
    assert otp_expire() == 0  # nothing twice
    settle_check(buyer, order, keeper)


def test_otp_expiry_finds_the_code_it_had_not_seen_and_keeps_the_charge(shop, buyer):
    order = order_place(buyer, **shop.otp_request())
    shop.pass_time(STEP + 1, "virtusim")  # the code is in upstream, but no refresh has run
    age_orders((django_settings.OTP_EXPIRY_MINUTES + 1) * 60, pk=order.pk)
    otp_expire()  # the cancel is refused ("Gagal Cancel"): it asks instead and learns the code
    order.refresh_from_db()
    assert order.status == "processing" and order.otp_code and order.refunded == 0
    assert otp_expire() == 1  # with the code in: done
    order.refresh_from_db()
    assert order.status == "completed" and order.refunded == 0
    assert upstream_of(shop, "virtusim", order).closed_status == "Success"
    settle_check(buyer, order)


# --- SMM v2 -------------------------------------------------------------------------------------------
def test_smm_goes_pending_in_progress_completed(shop, buyer):
    order = order_place(buyer, **shop.smm_request(quantity=1000))
    assert order.status == "pending" and order.external_id
    refresh_tick()
    order.refresh_from_db()
    assert order.status == "pending"

    shop.pass_time(STEP + 1, "smm_v2")
    refresh_tick()
    order.refresh_from_db()
    assert (order.status, order.raw_status) == ("processing", "In progress")
    assert order.start_count and order.start_count > 0

    shop.pass_time(STEP + 1, "smm_v2")
    refresh_tick()
    order.refresh_from_db()
    assert (order.status, order.remains) == ("completed", 0)
    settle_check(buyer, order)
    assert order.refunded == 0


def test_smm_partial_refunds_remains_at_the_frozen_price(shop, buyer):
    order = order_place(buyer, **shop.smm_request(link="https://instagram.com/p/partial-run", quantity=1000))
    frozen = order.unit_price
    # Today's price moves on; the refund must not.
    Service.objects.filter(pk=shop.smm.pk).update(cost=shop.smm.cost * 3)
    pricing_refresh([shop.smm.pk])
    shop.pass_time(2 * STEP + 1, "smm_v2")
    refresh_tick()
    refresh_tick()  # the same news twice
    order.refresh_from_db()
    assert (order.status, order.remains) == ("partial", 1000 // 3)
    assert order.refunded == floor_money(Decimal(333) * frozen / 1000) > 0
    settle_check(buyer, order)


def test_smm_canceled_upstream_is_refunded_in_full(shop, buyer):
    order = order_place(buyer, **shop.smm_request(link="https://instagram.com/p/cancel-me", quantity=500))
    shop.pass_time(2 * STEP + 1, "smm_v2")
    refresh_tick()
    order.refresh_from_db()
    assert order.status == "canceled" and order.refunded == order.charge
    settle_check(buyer, order)
    assert balance_of(buyer) == START


def test_smm_cancel_action_then_refresh_refunds(shop, buyer):
    order = order_place(buyer, **shop.smm_request(quantity=2000))
    assert order_action(buyer, order, "cancel").ok
    order.refresh_from_db()
    assert order.status == "pending" and order.refunded == 0  # the refresh learns the outcome
    assert upstream_of(shop, "smm_v2", order).closed_status == "Canceled"
    refresh_tick()
    order.refresh_from_db()
    assert order.status == "canceled" and order.refunded == order.charge
    settle_check(buyer, order)
    assert balance_of(buyer) == START


# --- Prepaid (Osimesa) ---------------------------------------------------------------------------------
def test_prepaid_succeeds_with_the_voucher(shop, buyer):
    order = order_place(buyer, **shop.prepaid_request("081234567890"))
    assert (order.status, order.voucher) == ("pending", "")
    assert order.external_id.startswith("OSM")
    shop.pass_time(STEP + 1, "osimesa")
    refresh_tick()
    order.refresh_from_db()
    upstream = upstream_of(shop, "osimesa", order)
    assert order.status == "completed" and order.voucher == upstream.voucher and len(order.voucher) == 16
    settle_check(buyer, order)
    assert order.refunded == 0


def test_prepaid_target_ending_99_fails_and_refunds(shop, buyer):
    order = order_place(buyer, **shop.prepaid_request("081234567899"))
    shop.pass_time(STEP + 1, "osimesa")
    refresh_tick()
    order.refresh_from_db()
    assert order.status == "failed" and order.refunded == order.charge and order.voucher == ""
    settle_check(buyer, order)
    assert balance_of(buyer) == START


# --- SMS -------------------------------------------------------------------------------------------
def test_rajasms_reports_arrive_over_http_and_settle_with_rejected_share_refunded(shop, buyer):
    account = shop.accounts["rajasms"]
    SandboxAccount.objects.filter(pk=account.pk).update(balance=Decimal("140"))  # two packets at Rp 70
    order = order_place(buyer, **shop.sms_request("reguler", "081234567890", "081234567894", "081234567897"))
    assert order.provider.kind == "rajasms" and order.status == "processing"
    assert order.charge == order.unit_price * 3
    # The gateway takes packets in the order sent until the balance runs out: one is refused with 80.
    rejected = order.recipients.get(state="rejected")
    assert (rejected.code, rejected.external_id) == ("80", "")  # Minimum Balance: not charged upstream
    assert order.recipients.filter(state="queued").exclude(external_id="").count() == 2

    shop.pass_time(LONG_DLR + 1, "rajasms")
    assert deliver_due_reports(account) == 2
    assert CallbackEvent.objects.filter(provider=order.provider, applied_at__isnull=False).count() == 2
    assert {o.dlr_http_status for o in shop.sandbox_orders("rajasms")} == {200}
    order.refresh_from_db()
    expected = {
        n: "failed" if n.endswith("4") else "delivered" for n in order.recipients.values_list("number", flat=True)
    }
    expected[rejected.number] = "rejected"
    assert dict(order.recipients.values_list("number", "state")) == expected
    assert order.status == "partial" and order.refunded == order.unit_price * order.segments
    settle_check(buyer, order)


def test_rajasms_refusing_every_packet_fails_the_order_with_a_full_refund(shop, buyer):
    SandboxAccount.objects.filter(pk=shop.accounts["rajasms"].pk).update(balance=Decimal("0"))
    order = order_place(buyer, **shop.sms_request("reguler", "081234567890", "081234567891"))
    order.refresh_from_db()
    assert (order.status, order.raw_status) == ("failed", "ProviderRejected")
    assert set(order.recipients.values_list("state", flat=True)) == {"rejected"}
    assert order.refunded == order.charge and order.error
    assert shop.sandbox_orders("rajasms") == []
    settle_check(buyer, order)
    assert balance_of(buyer) == START


def test_scheduled_sms_skips_the_masking_gateway_and_is_reported_after_its_time(shop, buyer):
    when = timezone.now() + timedelta(hours=2)
    order = order_place(buyer, **shop.sms_request("masking", "081234567890"), schedule_at=when)
    assert order.provider.kind == "rajasms" and order.service.external_id == "masking"  # masking HTTP cannot schedule
    assert order.status == "processing" and shop.sandbox_orders("masking_http") == []
    shop.pass_time(LONG_DLR + 1, "rajasms")
    assert deliver_due_reports(shop.accounts["rajasms"]) == 0  # not before its sending time
    shop.pass_time(2 * 3600, "rajasms")
    assert deliver_due_reports(shop.accounts["rajasms"]) == 1
    order.refresh_from_db()
    assert order.status == "completed"
    settle_check(buyer, order)


def test_rajasms_report_from_the_sandbox_timer_completes_the_order(shop, buyer):
    """The sandbox's own timer thread POSTs the report (one recipient, so no two threads race)."""
    SandboxAccount.objects.filter(pk=shop.accounts["rajasms"].pk).update(dlr_delay_seconds=1)
    order = order_place(buyer, **shop.sms_request("otp", "081298765432"))
    assert order.status == "processing"

    def completed() -> bool:
        callbacks_apply()  # the worker's tick: a report that beat the send reply is applied here
        return Order.objects.get(pk=order.pk).status == "completed"

    assert wait_for(completed, seconds=15)
    order.refresh_from_db()
    assert order.recipients.get().state == "delivered"
    settle_check(buyer, order)
    assert order.refunded == 0


def test_rajasms_report_that_beats_the_send_reply_is_not_lost(shop, buyer, monkeypatch):
    """A gateway may report delivery before the panel has stored the send's ids (the callback races the
    reply). The recorded report must still reach its recipient once the ids are known."""
    account = shop.accounts["rajasms"]
    SandboxAccount.objects.filter(pk=account.pk).update(dlr_delay_seconds=0)
    monkeypatch.setattr(dlr, "_arm", lambda order_id, due: None)  # no timer thread: the test sends the report
    store = submission._store_recipient_results

    def reply_arrives_after_the_report(order, placed):
        assert deliver_due_reports(account) == 1  # POSTed to /callbacks/... and recorded there
        store(order, placed)

    monkeypatch.setattr(submission, "_store_recipient_results", reply_arrives_after_the_report)
    order = order_place(buyer, **shop.sms_request("reguler", "081234567890"))
    assert CallbackEvent.objects.filter(provider=order.provider).count() == 1
    callbacks_apply()  # the worker's next tick
    order.refresh_from_db()
    assert order.recipients.get().state == "delivered"
    assert order.status == "completed"
    settle_check(buyer, order)


def test_masking_first_route_dlr_callbacks_refund_what_the_vendor_did_not_charge(shop, buyer):
    Service.objects.filter(provider=shop.providers["masking_http"], external_id="masking").update(route_priority=1)
    Service.objects.filter(provider=shop.providers["rajasms"], external_id="masking").update(route_priority=50)
    numbers = ("081234567890", "081234567895", "081234567894", "081234567896")
    order = order_place(buyer, **shop.sms_request("masking", *numbers))
    assert order.provider.kind == "masking_http" and order.status == "processing"
    assert set(order.recipients.values_list("state", flat=True)) == {"queued"}

    shop.pass_time(LONG_DLR + 1, "masking_http")
    assert deliver_due_reports(shop.accounts["masking_http"]) == 4
    order.refresh_from_db()
    states = {n: (s, c) for n, s, c in order.recipients.values_list("number", "state", "code")}
    assert states == {
        "6281234567890": ("delivered", "22"),
        "6281234567895": ("rejected", "52"),  # No Charge
        "6281234567894": ("rejected", "50"),  # Saldo Habis
        "6281234567896": ("rejected", "51"),  # Periode Habis
    }
    share = floor_money(order.unit_price * order.segments)
    assert order.status == "partial" and order.refunded == 3 * share
    assert balance_of(buyer) == START - order.charge + 3 * share
    settle_check(buyer, order)
    shop.providers["masking_http"].refresh_from_db()
    assert "Habis" in shop.providers["masking_http"].last_error  # the operator's sign to top up


def test_masking_failures_heard_by_poll_and_then_by_dlr_refund_once(shop, buyer):
    """report.php says `50 <reason>` and settles the order; the DLRs for the same SMS arrive afterwards (and
    once more, as a gateway retrying): nothing is paid twice. Both paths, real HTTP, through the sandbox."""
    Service.objects.filter(provider=shop.providers["masking_http"], external_id="masking").update(route_priority=1)
    Service.objects.filter(provider=shop.providers["rajasms"], external_id="masking").update(route_priority=50)
    numbers = ("081234567890", "081234567895", "081234567894", "081234567896")
    order = order_place(buyer, **shop.sms_request("masking", *numbers))
    assert order.provider.kind == "masking_http"
    account = shop.accounts["masking_http"]
    held = SandboxOrder.objects.filter(account=account)
    held.update(dlr_state=DlrState.NONE)  # the DLRs wait until after the poll (a report.php call sweeps them out)
    shop.pass_time(LONG_DLR + 1, "masking_http")
    age_orders(LONG_DLR + 1, pk=order.pk)
    assert reports_poll() == 1  # settled by polling, before any DLR is sent
    order.refresh_from_db()
    share = floor_money(order.unit_price * order.segments)
    assert (order.status, order.refunded) == ("partial", 3 * share)
    assert sorted(order.recipients.values_list("code", flat=True)) == ["22", "50", "51", "52"]

    held.update(dlr_state=DlrState.PENDING)
    assert deliver_due_reports(account) == 4  # the DLRs for the same four SMS
    held.update(dlr_state=DlrState.PENDING)
    assert deliver_due_reports(account) == 4  # and again
    callbacks_apply()
    assert reports_poll() == 0
    order.refresh_from_db()
    assert order.refunded == 3 * share
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == 1
    assert balance_of(buyer) == START - order.charge + 3 * share
    settle_check(buyer, order)


def test_masking_without_callbacks_settles_by_report_polling(shop, buyer):
    SandboxAccount.objects.filter(pk=shop.accounts["masking_http"].pk).update(callback_url="")  # DLRs never come
    order = order_place(buyer, **shop.sms_request("masking", "081234567890", "081234567895", "081234567896"))
    assert order.provider.kind == "masking_http"
    assert all(o.dlr_state == DlrState.NONE for o in shop.sandbox_orders("masking_http"))
    assert reports_poll() == 0  # too young to poll

    age_orders(180, pk=order.pk)
    assert reports_poll() == 0  # polled, but the gateway still says 20 (pending)
    order.refresh_from_db()
    assert order.status == "processing"
    assert set(order.recipients.values_list("state", flat=True)) == {"sent"}

    shop.pass_time(LONG_DLR + 1, "masking_http")
    assert reports_poll() == 1
    order.refresh_from_db()
    states = dict(order.recipients.values_list("number", "state"))
    assert states == {"6281234567890": "delivered", "6281234567895": "rejected", "6281234567896": "rejected"}
    assert order.status == "partial" and order.refunded == 2 * order.unit_price * order.segments
    settle_check(buyer, order)
