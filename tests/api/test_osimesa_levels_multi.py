"""Osimesa downstream: the three price levels as the operator maps tiers onto them, `multi` (no second
open order for the same product and number), and the product's note, type and updated_at as synced."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Tier
from accounts.selectors import balance_of, ledger_violations
from orders.models import Order, PriceLevelTier
from orders.placement import _order_create, order_place
from orders.quotes import OrderInvalid, Problem, order_quote
from providers.adapters.types import ProductKind, ServiceInfo, Status
from providers.models import MarkupRule, Service
from providers.pricing import pricing_refresh
from providers.sync import catalogue_apply
from tests.api.conftest import START

pytestmark = pytest.mark.django_db

REPEAT = "Transaction with the same product and destination number is still being processed."


def services(api, who) -> dict[str, dict]:
    reply = api.osimesa(who, type="service").json()
    return {item["code"]: item for item in reply["data"]}


def no_multi(service: Service) -> Service:
    Service.objects.filter(pk=service.pk).update(multi=False)
    service.refresh_from_db()
    return service


# --- what the sync keeps and the API serves -----------------------------------------------------------
def test_sync_keeps_levels_multi_type_note_and_updated_at(api, api_user, catalogue):
    changed = datetime(2024, 3, 22, 10, 27, 4, tzinfo=UTC)
    item = ServiceInfo(
        "TSEL5",
        "Telkomsel 5.000",
        "pulsa / TELKOMSEL / Pulsa Reguler",
        ProductKind.PREPAID,
        Decimal("5500"),
        description="Masa aktif 7 hari",
        multi=False,
        product_type="pulsa-reguler",
        upstream_updated_at=changed,
        price_levels={"standar": Decimal("5500"), "premium": Decimal("5450"), "spesial": Decimal("5400.5")},
    )
    catalogue_apply(catalogue.prepaid.provider, [item])
    service = Service.objects.get(pk=catalogue.prepaid.pk)
    assert (service.multi, service.product_type, service.upstream_updated_at) == (False, "pulsa-reguler", changed)
    assert service.price_levels == {"standar": "5500.0000", "premium": "5450.0000", "spesial": "5400.5000"}
    assert service.cost == Decimal("5500")  # the panel pays `current`

    served = services(api, api_user)[str(service.pk)]
    assert (served["multi"], served["note"], served["updated_at"]) == ("0", "Masa aktif 7 hari", 1711103224)
    assert served["category"]["type"] == "pulsa-reguler"
    # the vendor's level prices are its costs: never served downstream
    assert "5450" not in str(served) and "5400" not in str(served)


def test_transactions_carry_the_product_type(api, api_user, catalogue, upstream):
    Service.objects.filter(pk=catalogue.prepaid.pk).update(product_type="pulsa-transfer")
    reply = api.osimesa(api_user, type="order", service=str(catalogue.prepaid.pk), data_no="081234567890").json()
    assert reply["data"]["product"]["type"] == "pulsa-transfer"


# --- price levels -------------------------------------------------------------------------------------
def test_by_default_every_level_is_the_resellers_own_price(api, api_user, catalogue):
    price = int(catalogue.price(catalogue.prepaid, api_user.user))
    item = services(api, api_user)[str(catalogue.prepaid.pk)]
    assert item["price"] == {"list": {"standar": price, "premium": price, "spesial": price}, "current": price}


def test_levels_show_the_prices_of_the_tiers_the_operator_chose(api, api_user, catalogue, upstream):
    gold = Tier.objects.create(name="Gold", sort_order=5)
    silver = Tier.objects.create(name="Silver", sort_order=4)
    MarkupRule.objects.create(tier=gold, percent=Decimal("1"), rounding_step=Decimal("1"))
    MarkupRule.objects.create(tier=silver, percent=Decimal("3"), rounding_step=Decimal("1"))
    pricing_refresh()
    PriceLevelTier.objects.create(level="premium", tier=silver)
    PriceLevelTier.objects.create(level="spesial", tier=gold)
    own = int(catalogue.price(catalogue.prepaid, api_user.user))
    cost = catalogue.prepaid.cost

    item = services(api, api_user)[str(catalogue.prepaid.pk)]

    # Silver: 5500 x 1.03 = 5665; Gold: 5500 x 1.01 = 5555; standar has no tier: the reseller's own
    assert item["price"] == {"list": {"standar": own, "premium": 5665, "spesial": 5555}, "current": own}
    assert cost == Decimal("5500")
    # what `order` charges is `current`, whatever the list shows
    order = order_place(api_user.user, kind="prepaid", service=catalogue.prepaid, target="081234567890", source="api")
    assert order.charge == Decimal(own) and balance_of(api_user.user) == START - own


def test_a_level_whose_tier_cannot_buy_the_product_shows_the_own_price(api, api_user, catalogue):
    loss = Tier.objects.create(name="Rugi", sort_order=9)
    MarkupRule.objects.create(tier=loss, percent=Decimal("-10"))  # below cost: the margin guard holds it back
    pricing_refresh()
    PriceLevelTier.objects.create(level="standar", tier=loss)
    own = int(catalogue.price(catalogue.prepaid, api_user.user))
    item = services(api, api_user)[str(catalogue.prepaid.pk)]
    assert item["price"]["list"]["standar"] == own  # never a price under cost


def test_the_price_list_is_one_query_per_level_set_not_per_product(
    api, api_user, catalogue, django_assert_max_num_queries
):
    gold = Tier.objects.create(name="Gold", sort_order=5)
    MarkupRule.objects.create(tier=gold, percent=Decimal("1"))
    pricing_refresh()
    for level in ("standar", "premium", "spesial"):
        PriceLevelTier.objects.create(level=level, tier=gold)
    services(api, api_user)  # warm
    with django_assert_max_num_queries(12):
        services(api, api_user)


# --- multi ----------------------------------------------------------------------------------------------
def test_multi_off_refuses_a_second_open_order_and_charges_nothing(api, api_user, other_user, catalogue, upstream):
    service = no_multi(catalogue.prepaid)
    first = api.osimesa(api_user, type="order", service=str(service.pk), data_no="081234567890")
    assert first.status_code == 200
    after_first = balance_of(api_user.user)

    second = api.osimesa(api_user, type="order", service=str(service.pk), data_no="0812-3456-7890")

    assert second.status_code == 400
    assert second.json() == {"code": 400, "status": False, "message": REPEAT, "data": None}
    assert Order.objects.count() == 1 and balance_of(api_user.user) == after_first
    # another number, or another reseller, is not held back
    assert api.osimesa(api_user, type="order", service=str(service.pk), data_no="081234567891").status_code == 200
    assert api.osimesa(other_user, type="order", service=str(service.pk), data_no="081234567890").status_code == 200
    assert ledger_violations() == []


def test_multi_off_allows_the_repeat_once_the_first_is_final(api, api_user, catalogue, upstream):
    service = no_multi(catalogue.prepaid)
    api.osimesa(api_user, type="order", service=str(service.pk), data_no="081234567890")
    Order.objects.update(status=Status.COMPLETED)
    assert api.osimesa(api_user, type="order", service=str(service.pk), data_no="081234567890").status_code == 200


def test_multi_on_allows_repeats(api, api_user, catalogue, upstream):
    for _ in range(2):
        reply = api.osimesa(api_user, type="order", service=str(catalogue.prepaid.pk), data_no="081234567890")
        assert reply.status_code == 200
    assert Order.objects.count() == 2


def test_the_repeat_is_refused_again_under_the_wallet_lock(api_user, catalogue, upstream):
    """Two requests that both passed the quote: the second's acceptance finds the first and rolls back,
    its charge with it."""
    service = no_multi(catalogue.prepaid)
    quote = order_quote(api_user.user, kind="prepaid", service=service, target="081234567890")
    order_place(api_user.user, kind="prepaid", service=service, target="081234567890", source="api")
    before = balance_of(api_user.user)
    with pytest.raises(OrderInvalid) as caught:
        _order_create(api_user.user, quote, "api")
    assert caught.value.codes == {"target": Problem.REPEAT_OPEN}
    assert Order.objects.count() == 1 and balance_of(api_user.user) == before and ledger_violations() == []


def test_web_form_refuses_the_repeat_in_indonesian(client, api_user, catalogue, upstream):
    service = no_multi(catalogue.prepaid)
    form = {"service": service.pk, "target": "081234567890"}
    client.force_login(api_user.user)
    confirm = client.post(reverse("order_new", args=["prepaid"]), form).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    # meanwhile the same number gets the same product (another tab, the API)
    order_place(api_user.user, kind="prepaid", service=service, target="081234567890", source="api")
    before = balance_of(api_user.user)

    paid = client.post(reverse("order_place", args=["prepaid"]), {**form, "token": token}).content.decode()
    again = client.post(reverse("order_new", args=["prepaid"]), form).content.decode()
    price = client.post(reverse("order_price"), {**form, "kind": "prepaid"}).json()

    for html in (paid, again):
        assert "Pesanan produk ini untuk nomor ini masih diproses; tunggu sampai selesai." in html
    assert price["ok"] is False and "target" in price["errors"]
    assert Order.objects.count() == 1 and balance_of(api_user.user) == before and ledger_violations() == []
