"""One panel reselling another, for all four protocols, over real HTTP (`live_server`).

This panel's own upstream adapters (providers/adapters/) are pointed at this panel's downstream endpoints
as a middle reseller M would be set up by a buyer panel: VirtuSIM at /api/json.php, SMM v2 at /api/v2,
Osimesa at /api/prepaid (user id = M's id), RajaSMS at the server root, all with M's API key. Underneath,
M's orders go to the upstream simulator (/sandbox/). A buyer B orders through those providers:

    B --order_place--> adapter --HTTP--> /api/... as M --order_place--> adapter --HTTP--> /sandbox/...

Each order runs to its final state (refresh ticks, reseller actions, delivery callbacks forwarded by
orders.forwarding to the buyer panel's callback URL), and both ledgers are checked to the cent.

One process plays both panels, so the SMS route choice is split by thread: B (the test's main thread)
sends through M's routes, M (the live server's threads) through the sandbox gateway. Two real panels have
separate catalogues and need no such split.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import User
from accounts.selectors import balance_of, ledger_violations
from accounts.services import apikey_rotate
from orders import quotes
from orders.models import Order
from orders.placement import order_place
from orders.refresh import refresh_tick
from orders.services import order_action
from orders.sms import count_segments
from providers.models import Provider, Service
from providers.pricing import price_for, pricing_refresh
from providers.services import provider_save
from providers.sync import catalogue_sync
from tests.orders.sandbox_shop import LONG_DLR, MESSAGE, STEP, Shop, deliver_due_reports, expected_refund, open_shop

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
START = Decimal("1000000.00")


@dataclass
class Pair:
    shop: Shop
    middle: User  # M: a reseller of this panel, using the downstream API
    buyer: User  # B: a reseller of the buyer panel
    providers: dict[str, Provider]  # the buyer panel's providers: this panel, seen as an upstream
    services: dict[str, Service]  # the buyer panel's products, one per kind

    def inner(self, order: Order) -> Order:
        """M's order behind B's order: B's upstream id is M's order id (SMS: the `sendingid` of the first
        packet, which is M's recipient id)."""
        if order.kind == "sms":
            return Order.objects.get(recipients__pk=int(order.external_id), user=self.middle)
        return Order.objects.get(pk=int(order.external_id), user=self.middle)

    def settle_check(self, *orders: Order) -> None:
        """Each side's balance is START - its charges + its refunds; every refund is what the rules say."""
        pairs = [(order, self.inner(order)) for order in orders]
        for user, side in ((self.buyer, 0), (self.middle, 1)):
            mine = [pair[side] for pair in pairs]
            for order in mine:
                order.refresh_from_db()
                assert order.refunded == expected_refund(order), order
            assert balance_of(user) == START - sum(o.charge for o in mine) + sum(o.refunded for o in mine), user
        assert ledger_violations() == []


@pytest.fixture
def pair(settled_live_server, settings, make_reseller, monkeypatch) -> Pair:
    live_server = settled_live_server
    shop = open_shop(live_server.url, settings)  # sandbox providers; PANEL_PUBLIC_URL = the live server
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}  # forwarded delivery reports go out inline
    middle = make_reseller("tengah", deposit=int(START))
    buyer = make_reseller("pembeli", deposit=int(START))
    key = apikey_rotate(middle)
    root = live_server.url
    sms_price = price_for(Service.objects.get(provider=shop.providers["rajasms"], external_id="reguler"), None).price
    providers = {
        "virtusim": provider_save(
            name="Panel M VirtuSIM", kind="virtusim", base_url=f"{root}/api/json.php", api_key=key
        ),
        "smm_v2": provider_save(name="Panel M SMM", kind="smm_v2", base_url=f"{root}/api/v2", api_key=key),
        "osimesa": provider_save(
            name="Panel M Pulsa", kind="osimesa", base_url=f"{root}/api/prepaid", api_key=key, user_id=str(middle.pk)
        ),
        "rajasms": provider_save(name="Panel M SMS", kind="rajasms", base_url=root, api_key=key, sms_cost=sms_price),
    }
    providers = {kind: provider for kind, (provider, _created) in providers.items()}
    for kind in ("virtusim", "smm_v2", "osimesa"):
        result = catalogue_sync(providers[kind])
        assert result.created > 0, kind
    pricing_refresh()

    def mapped(kind: str, inner: Service) -> Service:
        return Service.objects.get(provider=providers[kind], external_id=str(inner.pk))

    real_routes = quotes.sms_routes

    def routes(route_type: str) -> list[Service]:
        buyer_side = threading.current_thread() is threading.main_thread()
        return [r for r in real_routes(route_type) if (r.provider_id == providers["rajasms"].pk) == buyer_side]

    monkeypatch.setattr(quotes, "sms_routes", routes)
    return Pair(
        shop=shop,
        middle=middle,
        buyer=buyer,
        providers=providers,
        services={
            "otp": mapped("virtusim", shop.otp),
            "smm": mapped("smm_v2", shop.smm),
            "prepaid": mapped("osimesa", shop.prepaid),
        },
    )


def tick() -> None:
    """Two refresh ticks: the outer provider asks the downstream API, which reports M's order as the
    sandbox left it (providers are visited by name, so the buyer's may come first)."""
    for _ in range(2):
        stats = refresh_tick()
        assert stats.errors == [], stats.errors


def test_the_downstream_catalogue_mirrors_the_middle_resellers_prices(pair):
    shop, middle = pair.shop, pair.middle
    for kind, inner in (("otp", shop.otp), ("smm", shop.smm), ("prepaid", shop.prepaid)):
        outer = pair.services[kind]
        assert outer.cost == price_for(inner, None).price  # the buyer panel pays M's price
        assert outer.name == inner.name and (outer.min_qty, outer.max_qty) == (inner.min_qty, inner.max_qty)
        assert price_for(outer, None).on_sale
    # nothing of the buyer panel's own (downstream-pointing) providers is offered back to it
    for provider in pair.providers.values():
        catalogue_sync(provider)
    listed = Service.objects.filter(provider__in=pair.providers.values()).values_list("external_id", flat=True)
    assert not Service.objects.filter(
        pk__in=[int(i) for i in listed if i.isdigit()], provider__in=pair.providers.values()
    )
    assert balance_of(middle) == START


def test_otp_code_then_done(pair):
    order = order_place(pair.buyer, kind="otp", service=pair.services["otp"], operator="any")
    inner = pair.inner(order)
    assert (order.status, inner.status, inner.source) == ("pending", "pending", "api")
    assert order.target == inner.target != "" and inner.provider == pair.shop.providers["virtusim"]
    assert order.charge > inner.charge > inner.cost > 0

    pair.shop.pass_time(STEP + 1, "virtusim")
    tick()
    order.refresh_from_db()
    inner.refresh_from_db()
    assert (inner.status, order.status) == ("processing", "processing")
    assert order.otp_code == inner.otp_code != ""

    assert order_action(pair.buyer, order, "done").ok
    order.refresh_from_db()
    inner.refresh_from_db()
    assert (order.status, inner.status) == ("completed", "completed")
    pair.settle_check(order)


def test_otp_cancel_refunds_both(pair):
    order = order_place(pair.buyer, kind="otp", service=pair.services["otp"], operator="any")
    assert order_action(pair.buyer, order, "cancel").ok
    order.refresh_from_db()
    inner = pair.inner(order)
    assert (order.status, inner.status) == ("canceled", "canceled")
    assert (order.refunded, inner.refunded) == (order.charge, inner.charge)
    pair.settle_check(order)
    assert balance_of(pair.buyer) == balance_of(pair.middle) == START


def test_smm_partial_refunds_the_remains_on_both_sides(pair):
    order = order_place(
        pair.buyer, kind="smm", service=pair.services["smm"], link="https://instagram.com/p/partial-rt", quantity=1500
    )
    inner = pair.inner(order)
    assert (order.status, inner.status, inner.quantity, inner.target) == (
        "pending",
        "pending",
        1500,
        "https://instagram.com/p/partial-rt",
    )
    pair.shop.pass_time(2 * STEP + 1, "smm_v2")
    tick()
    order.refresh_from_db()
    inner.refresh_from_db()
    assert (order.status, inner.status) == ("partial", "partial")
    assert order.remains == inner.remains == 500
    assert order.start_count == inner.start_count
    assert 0 < inner.refunded < inner.charge and 0 < order.refunded < order.charge
    pair.settle_check(order)


def test_smm_cancel_through_both_panels(pair):
    order = order_place(
        pair.buyer, kind="smm", service=pair.services["smm"], link="https://instagram.com/p/rt", quantity=1000
    )
    assert order_action(pair.buyer, order, "cancel").ok
    tick()
    order.refresh_from_db()
    inner = pair.inner(order)
    assert (order.status, inner.status) == ("canceled", "canceled")
    pair.settle_check(order)
    assert balance_of(pair.buyer) == balance_of(pair.middle) == START


def test_prepaid_success_carries_the_voucher_and_failure_refunds(pair):
    good = order_place(pair.buyer, kind="prepaid", service=pair.services["prepaid"], target="081234567890")
    bad = order_place(pair.buyer, kind="prepaid", service=pair.services["prepaid"], target="081234567899")
    assert {good.status, bad.status} == {"pending"}
    pair.shop.pass_time(STEP + 1, "osimesa")
    tick()
    good.refresh_from_db()
    bad.refresh_from_db()
    inner_good, inner_bad = pair.inner(good), pair.inner(bad)
    assert (good.status, inner_good.status) == ("completed", "completed")
    assert good.voucher == inner_good.voucher != ""
    assert (bad.status, inner_bad.status) == ("failed", "failed")
    assert (bad.refunded, inner_bad.refunded) == (bad.charge, inner_bad.charge)
    pair.settle_check(good, bad)


def test_sms_reports_travel_back_through_both_panels(pair):
    numbers = ("081234567890", "081234567894")  # the sandbox fails numbers ending in 4
    order = order_place(pair.buyer, kind="sms", sms_type="reguler", recipients="\n".join(numbers), message=MESSAGE)
    assert order.provider == pair.providers["rajasms"] and order.status == "processing"
    inner = pair.inner(order)
    assert inner.provider == pair.shop.providers["rajasms"] and inner.status == "processing"
    assert inner.client_callback_url.endswith(f"/callbacks/{order.provider_id}/{order.provider.callback_token}/")
    outer_ids = dict(order.recipients.values_list("number", "external_id"))
    assert outer_ids == {r.number: str(r.pk) for r in inner.recipients.all()}  # sendingid = M's recipient id
    segments = count_segments(MESSAGE).count
    assert inner.charge == inner.unit_price * segments * 2

    pair.shop.pass_time(LONG_DLR + 1, "rajasms")
    assert deliver_due_reports(pair.shop.accounts["rajasms"]) == 2  # sandbox -> M, forwarded M -> B
    order.refresh_from_db()
    inner.refresh_from_db()
    expected = {"6281234567890": "delivered", "6281234567894": "failed"}
    assert dict(inner.recipients.values_list("number", "state")) == expected
    assert dict(order.recipients.values_list("number", "state")) == expected
    assert (order.status, inner.status) == ("partial", "partial")
    pair.settle_check(order)
    assert order.refunded == inner.refunded == 0  # failed deliveries are charged upstream


def test_sms_rejected_downstream_is_refunded_on_both_sides(pair):
    Provider.objects.filter(pk=pair.shop.providers["rajasms"].pk).update(enabled=False)  # M has no route now
    order = order_place(pair.buyer, kind="sms", sms_type="reguler", recipients="081234567890", message=MESSAGE)
    assert order.status == "failed" and order.refunded == order.charge
    assert not Order.objects.filter(user=pair.middle).exists()
    assert balance_of(pair.buyer) == balance_of(pair.middle) == START and ledger_violations() == []
