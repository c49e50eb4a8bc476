"""Placement of every kind: price frozen, wallet charged with the order, and the three upstream outcomes."""

from decimal import Decimal

import pytest

from accounts.models import LedgerEntry
from accounts.money import ceil_rupiah
from accounts.selectors import balance_of, ledger_violations
from orders.models import Order, OrderEvent
from orders.placement import order_place
from orders.quotes import OrderInvalid
from providers.adapters.errors import (
    ProviderBadResponse,
    ProviderNotSupported,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.adapters.types import DeliveryState, Status

pytestmark = pytest.mark.django_db
START = Decimal("1000000.00")


def test_otp_accepted_freezes_price_and_charges_once(shop, upstream, buyer):
    price = shop.price(shop.otp, buyer)
    order = order_place(buyer, kind="otp", service=shop.otp, operator="telkomsel")
    order.refresh_from_db()
    assert order.status == Status.PENDING and order.external_id == "5000"
    assert order.target == "6281299990000"  # the number handed out
    assert order.unit_price == price and order.charge == ceil_rupiah(price)
    assert balance_of(buyer) == START - order.charge
    charge = LedgerEntry.objects.get(order_id=order.pk)
    assert charge.kind == "charge" and charge.amount == -order.charge
    request = upstream.calls[0][2]
    assert (request.service_id, request.operator) == ("1", "telkomsel")
    assert list(order.events.values_list("to_status", flat=True)) == ["submitting", "pending"]


def test_smm_charge_is_per_thousand_rounded_up(shop, upstream, buyer):
    price = shop.price(shop.smm, buyer)
    order = order_place(buyer, kind="smm", service=shop.smm, link="https://instagram.com/tokoku", quantity="1234")
    assert order.quantity == 1234
    assert order.charge == ceil_rupiah(price * 1234 / 1000)
    assert order.cost == Decimal("12340.00")
    assert upstream.calls[0][2].link == "https://instagram.com/tokoku"


def test_prepaid_target_digits_kept(shop, upstream, buyer):
    order = order_place(buyer, kind="prepaid", service=shop.prepaid, target="0812-1111-2222")
    assert order.target == "081211112222"
    assert upstream.calls[0][2].target == "081211112222"


def test_sms_prices_segments_times_recipients(shop, upstream, buyer):
    price = shop.price(shop.raja_routes["reguler"], buyer)
    order = order_place(
        buyer, kind="sms", sms_type="reguler", message="x" * 161, recipients="081234567890\n081311112222\n081234567890"
    )
    assert (order.segments, order.quantity) == (2, 4)  # 2 parts x 2 distinct recipients
    assert order.charge == ceil_rupiah(price * 4)
    assert sorted(order.recipients.values_list("number", "state")) == [
        ("6281234567890", DeliveryState.QUEUED),
        ("6281311112222", DeliveryState.QUEUED),
    ]
    assert order.status == Status.PROCESSING


@pytest.mark.parametrize("error", [ProviderRejected("Saldo tidak cukup"), ProviderUnavailable("refused")])
def test_refused_or_never_sent_is_refunded_in_full(shop, upstream, buyer, error):
    upstream.place.append(error)
    order = order_place(buyer, kind="otp", service=shop.otp)
    order.refresh_from_db()
    assert order.status == Status.FAILED and order.refunded == order.charge
    assert balance_of(buyer) == START
    assert order.error  # a message for the reseller
    assert ledger_violations() == []


@pytest.mark.parametrize(
    "error", [ProviderOutcomeUnknown("no reply within 25s"), ProviderBadResponse("invalid JSON"), RuntimeError("bug")]
)
def test_lost_or_garbled_reply_is_unknown_and_not_refunded(shop, upstream, buyer, error):
    upstream.place.append(error)
    order = order_place(buyer, kind="smm", service=shop.smm, link="https://instagram.com/a", quantity=100)
    order.refresh_from_db()
    assert order.status == Status.UNKNOWN and order.refunded == 0
    assert balance_of(buyer) == START - order.charge
    assert not LedgerEntry.objects.filter(order_id=order.pk, kind="refund").exists()


def test_sms_falls_back_to_the_next_route_when_refused(shop, upstream, buyer, make_reseller):
    mask = shop.masking_route
    mask.route_priority = 50  # after Raja's masking route (20)
    mask.save()
    upstream.place.extend([ProviderRejected("Expired Balance"), None])
    order = order_place(buyer, kind="sms", sms_type="masking", message="Halo", recipients="081234567890")
    order.refresh_from_db()
    assert [c[1] for c in upstream.calls if c[0] == "place"] == ["Raja", "Mask"]
    assert order.provider.name == "Mask" and order.status == Status.PROCESSING
    assert order.unit_cost == Decimal("120")  # the route that carried it
    assert OrderEvent.objects.filter(order=order, reason__startswith="route Raja refused").exists()


def test_sms_all_routes_refusing_fails_and_refunds(shop, upstream, buyer):
    shop.masking_route.route_priority = 50
    shop.masking_route.save()
    upstream.place.extend([ProviderUnavailable("down"), ProviderNotSupported("no schedule")])
    order = order_place(buyer, kind="sms", sms_type="masking", message="Halo", recipients="081234567890")
    order.refresh_from_db()
    assert order.status == Status.FAILED and order.refunded == order.charge
    assert set(order.recipients.values_list("state", flat=True)) == {DeliveryState.REJECTED}
    assert balance_of(buyer) == START


def test_insufficient_balance_writes_nothing(shop, upstream, make_reseller):
    poor = make_reseller("miskin", deposit=500)
    with pytest.raises(OrderInvalid) as info:
        order_place(poor, kind="otp", service=shop.otp)
    assert "Saldo tidak cukup" in info.value.errors["__all__"]
    assert not Order.objects.exists() and upstream.calls == []
    assert balance_of(poor) == Decimal("500.00")


@pytest.mark.parametrize(
    ("kind", "request_fields", "field"),
    [
        ("smm", {"link": "instagram.com/x", "quantity": 100}, "link"),
        ("smm", {"link": "https://instagram.com/x", "quantity": 99}, "quantity"),
        ("smm", {"link": "https://instagram.com/x", "quantity": 10001}, "quantity"),
        ("smm", {"link": "https://instagram.com/x", "quantity": "lots"}, "quantity"),
        ("smm", {"link": "https://instagram.com/x", "quantity": "-5"}, "quantity"),
        ("otp", {"operator": "smartfren"}, "operator"),
        ("prepaid", {"target": "12"}, "target"),
        ("prepaid", {"target": "1" * 40}, "target"),
    ],
)
def test_invalid_requests_name_the_field_and_write_nothing(shop, upstream, buyer, kind, request_fields, field):
    service = {"smm": shop.smm, "otp": shop.otp, "prepaid": shop.prepaid}[kind]
    with pytest.raises(OrderInvalid) as info:
        order_place(buyer, kind=kind, service=service, **request_fields)
    assert field in info.value.errors
    assert not Order.objects.exists() and balance_of(buyer) == START


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": "", "recipients": "081234567890"}, "message"),
        ({"message": "x" * 481, "recipients": "081234567890"}, "message"),
        ({"message": "hi", "recipients": "0212345678, 081234567890"}, "recipients"),
        ({"message": "hi", "recipients": ""}, "recipients"),
        ({"message": "hi", "recipients": "\n".join(f"0812{i:08d}" for i in range(1001))}, "recipients"),
    ],
)
def test_invalid_sms_requests(shop, upstream, buyer, fields, field):
    with pytest.raises(OrderInvalid) as info:
        order_place(buyer, kind="sms", sms_type="reguler", **fields)
    assert field in info.value.errors


def test_prepaid_refused_in_cutoff_window(shop, upstream, buyer):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from orders.quotes import order_quote

    start = shop.prepaid.cutoff_start
    inside = datetime(2026, 11, 21, start.hour, 45, tzinfo=ZoneInfo("Asia/Jakarta"))
    with pytest.raises(OrderInvalid) as info:
        order_quote(buyer, kind="prepaid", service=shop.prepaid, target="081211112222", now=inside)
    assert f"{start:%H:%M}" in info.value.errors["service"]
    outside = inside - timedelta(hours=2)
    assert order_quote(buyer, kind="prepaid", service=shop.prepaid, target="081211112222", now=outside).charge > 0


def test_out_of_stock_and_disabled_products_are_refused(shop, upstream, buyer):
    shop.prepaid.in_stock = False
    shop.prepaid.save()
    with pytest.raises(OrderInvalid, match=r"stock|stok"):
        order_place(buyer, kind="prepaid", service=shop.prepaid, target="081211112222")
    shop.otp.is_enabled = False
    shop.otp.save()
    with pytest.raises(OrderInvalid):
        order_place(buyer, kind="otp", service=shop.otp)
    assert not Order.objects.exists()


PLACE_FIELDS = {
    "smm": lambda shop: {"service": shop.smm, "link": "https://instagram.com/tokoku", "quantity": 1000},
    "prepaid": lambda shop: {"service": shop.prepaid, "target": "081211112222"},
    "sms": lambda shop: {"sms_type": "reguler", "message": "Halo", "recipients": "081234567890\n081234567891"},
}


@pytest.mark.worker_stopped
@pytest.mark.parametrize("kind", ["smm", "prepaid", "sms"])
def test_acceptance_query_count(shop, upstream, buyer, kind, django_assert_num_queries):
    """Acceptance is one price read and one transaction: order, charge (one UPDATE … RETURNING, no
    savepoint), [recipients,] event. No upstream call and no second commit in the request. Guards the
    placement benchmark's hot path."""
    fields = PLACE_FIELDS[kind](shop)
    order_place(buyer, kind=kind, **fields)  # warm: the first order may create what later ones reuse
    with django_assert_num_queries(9 if kind == "sms" else 7):  # with the test's SAVEPOINT + RELEASE
        order = order_place(buyer, kind=kind, **fields)
    assert order.status == "submitting" and upstream.calls == []


def test_otp_placement_query_count(shop, upstream, buyer, django_assert_num_queries):
    """OTP waits for its number: acceptance as above, then the upstream's answer + event in a second
    transaction, all inside the provider's bulkhead slot."""
    order_place(buyer, kind="otp", service=shop.otp)
    with django_assert_num_queries(11):
        order = order_place(buyer, kind="otp", service=shop.otp)
    assert order.status == "pending" and order.target


@pytest.mark.worker_stopped
def test_submission_query_count(shop, upstream, buyer, django_assert_num_queries):
    """The worker's side of one order: which providers wait, claim (UPDATE + read back), the upstream's
    answer + event in one transaction."""
    from orders.submitter import submit_pending

    for _ in range(2):
        order_place(buyer, kind="smm", **PLACE_FIELDS["smm"](shop))
    submit_pending()  # warm
    order_place(buyer, kind="smm", **PLACE_FIELDS["smm"](shop))
    with django_assert_num_queries(8):
        stats = submit_pending()
    assert stats.outcomes == {"accepted": 1}
