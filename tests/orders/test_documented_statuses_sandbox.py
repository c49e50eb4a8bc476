"""Issue #15 items 4 and 5 against the upstream simulator over real HTTP (`live_server`): every documented
VirtuSIM and SMM v2 status and refusal reaches the panel's order states, the reseller's money (exact
balance, one refund at most, clean ledger) and the downstream status words."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from accounts.models import LedgerEntry
from accounts.money import floor_money
from accounts.selectors import balance_of, ledger_violations
from orders.api.smm_v2 import status_word
from orders.models import Order
from orders.placement import order_place
from orders.refresh import refresh_tick
from orders.services import order_action
from providers.models import Provider, Service
from providers.sandbox.models import SandboxOrder
from providers.sandbox.protocols.virtusim import MAX_OPEN_NUMBERS
from tests.orders.sandbox_shop import STEP, open_shop

pytestmark = pytest.mark.django_db(transaction=True)
START = Decimal("1000000.00")


@pytest.fixture
def shop(live_server, settings):
    return open_shop(live_server.url, settings)


def books_clean(buyer, *orders: Order) -> None:
    for order in orders:
        order.refresh_from_db()
        assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == (1 if order.refunded else 0)
    assert balance_of(buyer) == START - sum(o.charge for o in orders) + sum(o.refunded for o in orders)
    assert ledger_violations() == []


# --- SMM v2: every documented status ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("keyword", "raw", "status", "word", "full_refund"),
    [
        ("plain", "Completed", "completed", "Completed", False),
        ("partial", "Partial", "partial", "Partial", False),
        ("cancel", "Canceled", "canceled", "Canceled", True),
        ("error", "Error", "failed", "Error", True),
        ("refund", "Refunded", "canceled", "Refunded", True),
    ],
)
def test_smm_final_statuses_pay_what_is_owed_once(shop, buyer, keyword, raw, status, word, full_refund):
    order = order_place(buyer, **shop.smm_request(link=f"https://instagram.com/p/{keyword}-run", quantity=1000))
    shop.pass_time(2 * STEP + 1, "smm_v2")
    refresh_tick()
    refresh_tick()  # the worker refreshes twice: the same news pays nothing twice
    order.refresh_from_db()
    assert (order.raw_status, order.status, status_word(order)) == (raw, status, word)
    if full_refund:
        assert order.refunded == order.charge
    elif status == "partial":
        assert order.refunded == floor_money(Decimal(1000 // 3) * order.unit_price / 1000) > 0
    else:
        assert order.refunded == 0
    books_clean(buyer, order)


@pytest.mark.parametrize(("keyword", "word"), [("processing", "Processing"), ("plain", "In progress")])
def test_smm_running_word_is_the_upstreams(shop, buyer, keyword, word):
    order = order_place(buyer, **shop.smm_request(link=f"https://instagram.com/p/{keyword}", quantity=1000))
    assert status_word(order) == "Pending"
    shop.pass_time(STEP + 1, "smm_v2")
    refresh_tick()
    order.refresh_from_db()
    assert (order.status, order.raw_status, status_word(order)) == ("processing", word, word)


def test_smm_status_in_another_currency_is_refused_and_shown_to_operators(shop, buyer):
    order = order_place(buyer, **shop.smm_request(link="https://instagram.com/p/partial-currency-usd", quantity=1000))
    shop.pass_time(2 * STEP + 1, "smm_v2")
    stats = refresh_tick()
    order.refresh_from_db()
    assert (order.status, order.refunded, order.remains) == ("pending", 0, None)  # nothing of it applied
    assert stats.errors and "currency" in stats.errors[0]
    provider = Provider.objects.get(pk=order.provider_id)
    assert "USD" in provider.last_error and "IDR" in provider.last_error
    books_clean(buyer, order)


def test_smm_currency_is_learned_from_the_balance(shop):
    from providers.services import provider_config, provider_fetch_balance

    provider = shop.providers["smm_v2"]
    Provider.objects.filter(pk=provider.pk).update(currency="")
    provider.refresh_from_db()
    provider_fetch_balance(provider)
    provider.refresh_from_db()
    assert provider.currency == "IDR" and provider_config(provider).currency == "IDR"


def test_smm_service_type_is_kept_from_the_catalogue(shop):
    assert set(Service.objects.filter(provider=shop.providers["smm_v2"]).values_list("service_type", flat=True)) == {
        "Default"
    }


# --- VirtuSIM ---------------------------------------------------------------------------------------
def test_otp_ready_is_forwarded_upstream(shop, buyer):
    order = order_place(buyer, **shop.otp_request())
    upstream = SandboxOrder.objects.get(account=shop.accounts["virtusim"], external_id=order.external_id)
    assert upstream.ready_at is None
    outcome = order_action(buyer, order, "ready")
    upstream.refresh_from_db()
    assert outcome.ok and upstream.ready_at is not None
    refresh_tick()
    order.refresh_from_db()
    assert (order.status, order.raw_status) == ("pending", "Ready")
    books_clean(buyer, order)


def test_otp_jumlah_pesan_tidak_sesuai_refunds_and_says_why(shop, buyer):
    account = shop.accounts["virtusim"]
    SandboxOrder.objects.bulk_create(
        SandboxOrder(account=account, external_id=f"held-{i}", created_at=timezone.now())
        for i in range(MAX_OPEN_NUMBERS)
    )
    with translation.override("en"):  # the message is written in the active language
        order = order_place(buyer, **shop.otp_request())
    assert order.status == "failed" and order.refunded == order.charge
    assert "too many orders" in order.error
    assert "Jumlah" not in order.error  # the vendor's words stay upstream
    shop.otp.refresh_from_db()
    assert shop.otp.in_stock  # a count limit is not an empty stock
    books_clean(buyer, order)
    assert balance_of(buyer) == START


def test_otp_error_upstream_is_failed_and_refunded_once(shop, buyer):
    order = order_place(buyer, **shop.otp_request())
    SandboxOrder.objects.filter(account=shop.accounts["virtusim"], external_id=order.external_id).update(
        created_at=timezone.now() - timedelta(minutes=31), otp_at=None
    )  # the vendor closes a number left 30 minutes without a code as Error
    refresh_tick()
    refresh_tick()
    order.refresh_from_db()
    assert (order.status, order.raw_status, order.refunded) == ("failed", "Error", order.charge)
    books_clean(buyer, order)
    assert balance_of(buyer) == START
