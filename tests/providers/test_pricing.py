from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import Tier
from accounts.money import ceil_to_step
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import MarkupRule, Provider, Service, ServicePrice
from providers.pricing import (
    off_sale_services,
    price_for,
    prices_for_tier,
    pricing_refresh,
    rule_for,
    sell_price,
)
from providers.services import provider_save
from providers.sync import catalogue_apply

pytestmark = pytest.mark.django_db

D = Decimal


def rule(percent="0", fixed="0", step="50", fixed_price=None):
    return SimpleNamespace(
        percent=D(percent),
        fixed=D(fixed),
        rounding_step=D(step),
        fixed_price=None if fixed_price is None else D(fixed_price),
    )


def info(external_id: str, cost, *, category="Instagram", kind=ProductKind.SMM) -> ServiceInfo:
    return ServiceInfo(external_id=external_id, name=f"Item {external_id}", category=category, kind=kind, cost=D(cost))


def writes(ctx) -> list[str]:
    return [
        q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.fixture
def tiers():
    return {tier.name: tier for tier in Tier.objects.all()}


@pytest.fixture
def no_rules(db):
    MarkupRule.objects.all().delete()


@pytest.fixture
def other_provider(db):
    provider, _ = provider_save(name="SMM Kedua", kind="smm_v2", base_url="https://smm2.example/api", api_key="k-22222")
    return provider


def price(service: Service, tier: Tier) -> ServicePrice:
    return ServicePrice.objects.get(service=service, tier=tier)


# --- sell_price ------------------------------------------------------------------------------------
def test_rounds_up_to_the_step():
    assert sell_price(D("650"), rule("10")) == D("750.00")  # 715 -> 750
    assert sell_price(D("650"), rule("10", step="5")) == D("715.00")
    assert sell_price(D("681.8182"), rule("10", step="50")) == D("800.00")  # 750.00002: up, never down
    assert sell_price(D("700"), rule("0", step="50")) == D("700.00")  # already on a step: not raised


@pytest.mark.parametrize("step", ["0", "1"])
def test_step_zero_or_one_means_whole_rupiah(step):
    assert sell_price(D("650.30"), rule("10", step=step)) == D("716.00")  # 715.33 up


def test_fixed_and_percent():
    assert sell_price(D("1000"), rule("10", fixed="25", step="50")) == D("1150.00")  # 1125 up to 1150
    assert sell_price(D("1000"), rule("0", fixed="25", step="1")) == D("1025.00")


def test_fixed_price_overrides_markup_and_step():
    assert sell_price(D("1000"), rule("50", fixed="99", step="500", fixed_price="1234.5")) == D("1234.50")


def test_always_two_decimals_never_negative():
    result = sell_price(D("12.3456"), rule("10", step="0.01"))
    assert result == D("13.59") and result.as_tuple().exponent == -2
    assert sell_price(D("100"), rule("-100", fixed="-10")) == D("0.00")


# --- rule precedence -------------------------------------------------------------------------------
def test_every_level_and_tier_specific_beats_all_tiers(smm_provider, other_provider, tiers, no_rules):
    catalogue_apply(smm_provider, [info("1", 1000), info("2", 1000), info("3", 1000, category="TikTok")])
    catalogue_apply(other_provider, [info("1", 1000)])
    s1, s2, s3 = (Service.objects.get(provider=smm_provider, external_id=x) for x in "123")
    elsewhere = Service.objects.get(provider=other_provider)
    basic, vip = tiers["Basic"], tiers["VIP"]

    def winner(service, tier):
        return rule_for(service, tier)

    assert winner(s1, basic) is None
    g_all = MarkupRule.objects.create(percent=1)
    assert winner(s1, basic) == g_all
    g_vip = MarkupRule.objects.create(percent=2, tier=vip)
    assert (winner(s1, basic), winner(s1, vip)) == (g_all, g_vip)
    p_all = MarkupRule.objects.create(percent=3, provider=smm_provider)
    assert (winner(s1, basic), winner(s1, vip), winner(elsewhere, vip)) == (p_all, p_all, g_vip)
    p_vip = MarkupRule.objects.create(percent=4, provider=smm_provider, tier=vip)
    assert (winner(s1, basic), winner(s1, vip)) == (p_all, p_vip)
    c_all = MarkupRule.objects.create(percent=5, category="Instagram")
    assert (winner(s1, vip), winner(elsewhere, basic), winner(s3, vip)) == (c_all, c_all, p_vip)
    c_vip = MarkupRule.objects.create(percent=6, category="Instagram", tier=vip)
    assert (winner(s1, basic), winner(s1, vip)) == (c_all, c_vip)
    cp_all = MarkupRule.objects.create(percent=7, category="Instagram", provider=smm_provider)
    assert (winner(s1, basic), winner(s1, vip), winner(elsewhere, vip)) == (cp_all, cp_all, c_vip)
    cp_vip = MarkupRule.objects.create(percent=8, category="Instagram", provider=smm_provider, tier=vip)
    assert (winner(s1, basic), winner(s1, vip)) == (cp_all, cp_vip)
    s_all = MarkupRule.objects.create(percent=9, service=s1)
    assert (winner(s1, basic), winner(s1, vip), winner(s2, vip)) == (s_all, s_all, cp_vip)
    s_vip = MarkupRule.objects.create(percent=10, service=s1, tier=vip)
    assert (winner(s1, basic), winner(s1, vip)) == (s_all, s_vip)
    # Inactive rules do not count.
    MarkupRule.objects.filter(pk__in=[s_vip.pk, s_all.pk]).update(is_active=False)
    assert winner(s1, vip) == cp_vip

    # pricing_refresh resolves the same way, in bulk.
    pricing_refresh()
    expected = {
        (s1, basic): cp_all,
        (s1, vip): cp_vip,
        (s2, basic): cp_all,
        (s3, basic): p_all,
        (s3, vip): p_vip,
        (elsewhere, basic): c_all,
        (elsewhere, vip): c_vip,
    }
    for (service, tier), expected_rule in expected.items():
        row = price(service, tier)
        assert row.rule_id == expected_rule.pk
        assert row.price == ceil_to_step(D(1000) * (1 + D(expected_rule.percent) / 100), D(50))


def test_category_rule_matches_exactly(smm_provider, tiers, no_rules):
    catalogue_apply(smm_provider, [info("1", 1000, category="Instagram Followers")])
    MarkupRule.objects.create(percent=10, category="Instagram")
    pricing_refresh()
    row = price(Service.objects.get(), tiers["Basic"])
    assert (row.rule, row.on_sale) == (None, False)


# --- prices per tier and the defaults -------------------------------------------------------------
def test_default_rules_sell_every_fresh_service_above_cost_for_every_tier(smm_provider, tiers):
    assert MarkupRule.objects.filter(service=None, category="", provider=None).count() == 4
    costs = ["0.5", "1", "12.3456", "49", "50", "650", "999.99", "1000", "12500", "1250000"]
    catalogue_apply(smm_provider, [info(str(i), cost) for i, cost in enumerate(costs)])
    rows = ServicePrice.objects.select_related("service", "tier")
    assert rows.count() == len(costs) * 3
    for row in rows:
        assert row.on_sale and row.price > row.service.cost, row
    percent = {"Basic": D(15), "Reseller": D(10), "VIP": D(6)}
    for row in rows.filter(service__external_id="5"):  # cost 650
        assert row.price == ceil_to_step(D(650) * (1 + percent[row.tier.name] / 100), D(50))
    assert not off_sale_services().exists()


def test_a_tier_added_later_uses_the_all_tier_fallback(smm_provider):
    catalogue_apply(smm_provider, [info("1", 650)])
    gold = Tier.objects.create(name="Gold", sort_order=40)
    result = pricing_refresh()
    assert (result.created, result.updated) == (1, 0)
    row = price(Service.objects.get(), gold)
    assert (row.price, row.on_sale, row.rule.tier) == (D("750.00"), True, None)  # 650 + 15% = 747.5 -> 750


def test_sms_routes_are_priced_and_cost_edits_reprice_them(raja_provider, tiers):
    route = Service.objects.get(provider=raja_provider, external_id="reguler")
    assert price(route, tiers["Basic"]).price == D("450.00")  # 350 + 15% = 402.5 -> 450
    provider_save(name="Raja", kind="rajasms", base_url="https://raja.example", sms_cost=D("500"))
    assert price(route, tiers["Basic"]).price == D("600.00")  # 575 -> 600
    assert price(route, tiers["VIP"]).price == D("550.00")  # 530 -> 550


# --- the margin guard ------------------------------------------------------------------------------
def test_negative_markup_takes_the_service_off_sale_and_lists_it(smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000), info("2", 1000)])
    s1 = Service.objects.get(external_id="1")
    MarkupRule.objects.create(service=s1, tier=tiers["VIP"], percent=-10)
    result = pricing_refresh()
    assert (result.updated, result.off_sale) == (1, 1)
    assert price(s1, tiers["VIP"]).on_sale is False and price(s1, tiers["VIP"]).price == D("900.00")
    assert price(s1, tiers["Basic"]).on_sale is True
    assert list(off_sale_services()) == [s1]


def test_fixed_price_below_cost_is_held_back(smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000)])
    service = Service.objects.get()
    MarkupRule.objects.create(service=service, fixed_price=D("999.99"))
    pricing_refresh()
    assert all(not row.on_sale for row in service.prices.all())
    assert list(off_sale_services()) == [service]
    # Exactly at cost is no profit either.
    MarkupRule.objects.filter(service=service).update(fixed_price=D("1000"))
    assert pricing_refresh().off_sale == 1


def test_upstream_price_rise_takes_it_off_sale_and_a_drop_puts_it_back(smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000), info("2", 1000)])
    service = Service.objects.get(external_id="1")
    MarkupRule.objects.create(service=service, fixed_price=D("1500"))
    pricing_refresh()
    assert all(row.on_sale for row in service.prices.all())

    catalogue_apply(smm_provider, [info("1", 1600), info("2", 1000)])  # the upstream raised its price
    assert [row.on_sale for row in service.prices.all()] == [False, False, False]
    assert list(off_sale_services()) == [service]

    catalogue_apply(smm_provider, [info("1", 1400), info("2", 1000)])
    assert [row.on_sale for row in service.prices.all()] == [True, True, True]
    assert not off_sale_services().exists()


def test_vanished_and_disabled_services_are_not_on_sale_and_not_margin_victims(smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000), info("2", 1000)])
    catalogue_apply(smm_provider, [info("2", 1000)])  # 1 vanished upstream
    gone = Service.objects.get(external_id="1")
    assert not gone.is_active and not any(row.on_sale for row in gone.prices.all())
    assert not off_sale_services().exists()
    Service.objects.filter(external_id="2").update(is_enabled=False)
    pricing_refresh()
    assert not ServicePrice.objects.filter(on_sale=True).exists()


def test_no_rule_at_all_means_nothing_is_sold(smm_provider, no_rules):
    catalogue_apply(smm_provider, [info("1", "1000.5")])
    assert not ServicePrice.objects.filter(on_sale=True).exists()
    assert ServicePrice.objects.filter(rule=None, price=D("1000.50")).count() == 3
    assert off_sale_services().count() == 1


# --- reads ---------------------------------------------------------------------------------------
def test_price_for_in_one_query_and_the_default_tier_for_no_tier(smm_provider, tiers, django_assert_num_queries):
    catalogue_apply(smm_provider, [info("1", 650)])
    service = Service.objects.get()
    with django_assert_num_queries(1):
        basic = price_for(service, None)
    with django_assert_num_queries(1):
        vip = price_for(service.pk, tiers["VIP"])
    assert (basic.tier_id, basic.price, vip.price) == (tiers["Basic"].pk, D("750.00"), D("700.00"))  # 689 -> 700
    assert price_for(service, tiers["VIP"].pk).price == D("700.00")
    assert price_for(service, Tier.objects.create(name="New")) is None  # not priced yet


def test_price_for_rechecks_a_stale_row_against_the_current_cost(smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 650)])
    Service.objects.update(cost=D("800"))  # changed without a refresh
    service = Service.objects.get()
    assert price_for(service, tiers["Basic"]).on_sale is False
    assert not prices_for_tier(tiers["Basic"]).exists()


def test_prices_for_tier(smm_provider, tiers, reseller):
    catalogue_apply(smm_provider, [info("1", 650), info("2", 1000, category="A")])
    MarkupRule.objects.create(service=Service.objects.get(external_id="1"), percent=-5)
    pricing_refresh()
    on_sale = list(prices_for_tier(None))
    assert [row.service.external_id for row in on_sale] == ["2"]
    assert on_sale[0].tier_id == Tier.objects.get(is_default=True).pk
    assert [row.service.external_id for row in prices_for_tier(tiers["VIP"], on_sale=False)] == ["1"]
    assert prices_for_tier(reseller.tier_id, on_sale=None).count() == 2


# --- bulk behaviour --------------------------------------------------------------------------------
def test_twenty_thousand_services_in_a_bounded_number_of_queries(smm_provider, django_assert_max_num_queries):
    Service.objects.bulk_create(
        [
            Service(
                provider=smm_provider,
                external_id=str(i),
                name=f"S {i}",
                category=f"C{i % 40}",
                kind="smm",
                cost=D(500 + i % 997),
            )
            for i in range(20_000)
        ],
        batch_size=2000,
    )
    MarkupRule.objects.create(category="C7", percent=30)
    with django_assert_max_num_queries(20):
        result = pricing_refresh()
    assert (result.created, result.updated, result.off_sale) == (60_000, 0, 0)
    assert ServicePrice.objects.count() == 60_000
    ids = list(Service.objects.values_list("pk", flat=True))
    MarkupRule.objects.filter(category="C7").update(percent=-30)
    with django_assert_max_num_queries(20):
        result = pricing_refresh(ids)
    assert (result.created, result.updated, result.unchanged, result.off_sale) == (0, 1500, 58_500, 500)


def test_a_refresh_without_changes_writes_nothing(smm_provider):
    catalogue_apply(smm_provider, [info(str(i), 100 + i) for i in range(2_000)])
    with CaptureQueriesContext(connection) as ctx:
        result = pricing_refresh()
    assert (result.changed, result.deleted, result.unchanged) == (0, 0, 6_000)
    assert writes(ctx) == []
    assert len(ctx.captured_queries) <= 4


def test_an_empty_id_list_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert pricing_refresh([]).changed == 0


def test_catalogue_sync_prices_only_touched_services(smm_provider):
    catalogue_apply(smm_provider, [info(str(i), 1000) for i in range(100)])
    with CaptureQueriesContext(connection) as ctx:
        catalogue_apply(smm_provider, [info(str(i), 1000 if i else 2000) for i in range(100)])
    price_writes = [sql for sql in writes(ctx) if "providers_serviceprice" in sql]
    assert len(price_writes) == 1
    assert ServicePrice.objects.filter(service__external_id="0", price=D("2300.00")).count() == 1  # Basic +15%


# --- validation ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"percent": D("-100.01")}, "percent"),
        ({"rounding_step": D("-1")}, "rounding_step"),
        ({"fixed_price": D("1000")}, "fixed_price"),
        ({"category": "Instagram", "fixed_price": D("1000")}, "fixed_price"),
    ],
)
def test_invalid_rules_are_refused_by_clean_and_by_the_database(fields, field):
    bad = MarkupRule(note="x", **fields)
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert field in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()


def test_service_rule_takes_no_other_target_and_fixed_price_not_negative(smm_provider):
    catalogue_apply(smm_provider, [info("1", 1000)])
    service = Service.objects.get()
    with pytest.raises(ValidationError):
        MarkupRule(service=service, provider=smm_provider).full_clean()
    with pytest.raises(ValidationError):
        MarkupRule(service=service, fixed_price=D("-1")).full_clean()
    MarkupRule(service=service, fixed_price=D("0"), percent=D("-100")).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        MarkupRule.objects.create(service=service, category="X")


def test_a_second_active_rule_for_the_same_scope_and_tier_is_refused(tiers):
    with pytest.raises(ValidationError) as exc:
        MarkupRule(tier=tiers["VIP"], percent=1).full_clean()  # the default VIP rule exists
    assert "tier" in exc.value.message_dict
    MarkupRule(tier=tiers["VIP"], percent=1, is_active=False).full_clean()


# --- admin and command ---------------------------------------------------------------------------
def test_admin_save_and_delete_reprice_and_report(client, operator, smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000)])
    service = Service.objects.get()
    client.force_login(operator)
    response = client.post(
        reverse("admin:providers_markuprule_add"),
        {
            "tier": tiers["VIP"].pk,
            "service": service.pk,
            "category": "",
            "provider": "",
            "percent": "-20",
            "fixed": "0",
            "rounding_step": "50",
            "fixed_price": "",
            "is_active": "on",
            "note": "clearance",
        },
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        expected = translation.gettext(
            "Prices recomputed: %(changed)s changed; %(off)s services off sale (margin guard)."
        ) % {"changed": 1, "off": 1}
    assert any(t.startswith(expected) and "on_sale__exact=0" in t for t in texts), texts
    rule = MarkupRule.objects.get(note="clearance")
    assert price(service, tiers["VIP"]).rule == rule and price(service, tiers["VIP"]).on_sale is False

    response = client.post(reverse("admin:providers_markuprule_delete", args=[rule.pk]), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert price(service, tiers["VIP"]).on_sale is True


def test_admin_bulk_delete_reprices(client, operator, smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000)])
    client.force_login(operator)
    rules = list(MarkupRule.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:providers_markuprule_changelist"),
        {"action": "delete_selected", "_selected_action": rules, "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200 and not MarkupRule.objects.exists()
    assert not ServicePrice.objects.filter(on_sale=True).exists()  # no markup left: nothing for sale
    assert off_sale_services().count() == 1


def test_admin_invalid_rule_shows_errors(client, operator, smm_provider):
    client.force_login(operator)
    response = client.post(
        reverse("admin:providers_markuprule_add"),
        {"category": "Instagram", "percent": "-150", "fixed": "0", "rounding_step": "50", "fixed_price": "5"},
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) >= {"percent", "fixed_price"}
    assert MarkupRule.objects.count() == 4


def test_admin_pages_list_prices_margins_and_victims(client, operator, smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000), info("2", 1000)])
    victim = Service.objects.get(external_id="1")
    MarkupRule.objects.create(service=victim, percent=-10)
    pricing_refresh()
    client.force_login(operator)
    prices_url = reverse("admin:providers_serviceprice_changelist")
    page = client.get(prices_url).content.decode()
    assert "Item 1" in page and "-Rp 100 " in page and "Rp 150 " in page  # margins: 900-1000, 1150-1000
    off = client.get(prices_url, {"on_sale__exact": "0"})
    assert off.status_code == 200 and len(off.context["cl"].result_list) == 3
    assert len(client.get(prices_url, {"margin": "loss"}).context["cl"].result_list) == 3
    assert len(client.get(prices_url, {"tier__id__exact": tiers["VIP"].pk}).context["cl"].result_list) == 2
    services_url = reverse("admin:providers_service_changelist")
    assert list(client.get(services_url, {"margin_guard": "yes"}).context["cl"].result_list) == [victim]
    assert [s.external_id for s in client.get(services_url, {"margin_guard": "no"}).context["cl"].result_list] == ["2"]
    change = client.get(reverse("admin:providers_service_change", args=[victim.pk])).content.decode()
    assert "-Rp 100 (-10,0%)" in change
    rules = client.get(reverse("admin:providers_markuprule_changelist"), {"scope": "service"})
    assert len(rules.context["cl"].result_list) == 1
    assert (
        client.get(reverse("admin:providers_serviceprice_change", args=[ServicePrice.objects.first().pk])).status_code
        == 200
    )


def test_pricing_refresh_command(smm_provider, tiers):
    catalogue_apply(smm_provider, [info("1", 1000), info("2", 1000)])
    MarkupRule.objects.create(service=Service.objects.get(external_id="1"), tier=tiers["Basic"], percent=-1)
    out = StringIO()
    call_command("pricing_refresh", stdout=out)
    assert out.getvalue().strip() == "1 prices updated, 1 services off sale"
    out = StringIO()
    call_command("pricing_refresh", stdout=out)
    assert out.getvalue().strip() == "0 prices updated, 1 services off sale"


def test_rules_of_a_deleted_provider_go_with_it(smm_provider):
    MarkupRule.objects.create(provider=smm_provider, percent=5)
    Provider.objects.filter(pk=smm_provider.pk).delete()
    assert not MarkupRule.objects.filter(provider_id=smm_provider.pk).exists()
