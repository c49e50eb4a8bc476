"""The admin in Indonesian (#19 items 1 and 3): every registered changelist, add and change page, the action
forms and the report screens render with no msgid left untranslated, and money reads "Rp 68.350"."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import override

from accounts.models import LedgerEntry, User
from accounts.services import apikey_rotate, deposit_request_create
from orders.models import (
    CallbackEvent,
    Order,
    OrderEvent,
    OrderRecipient,
    PriceLevelTier,
    SmsDifference,
    SmsReconciliation,
)
from orders.reports.queries import ledger_header, order_header, profit_header
from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import InboxMessage, MarkupRule, Provider, Service
from providers.pricing import pricing_refresh
from providers.sandbox.models import SandboxAccount, SandboxRefill
from providers.sandbox.services import place_order
from providers.sync import catalogue_apply
from tests.fake_shop import fake_providers
from tests.i18n_check import untranslatable_names, untranslated_msgids

pytestmark = pytest.mark.django_db
OUR_ADMIN_APPS = ("accounts", "providers", "orders", "sandbox", "panel", "tooling")

IG = ServiceInfo("101", "IG Followers", "Instagram", ProductKind.SMM, Decimal("10000"), min_qty=100, max_qty=10000)


def _order(user: User, service: Service, *, charge: str = "68350", status: str = "pending", **fields) -> Order:
    return Order.objects.create(
        user=user,
        kind=service.kind,
        service=service,
        provider=service.provider,
        status=status,
        unit_price=Decimal(charge),
        unit_cost=Decimal("60000"),
        charge=Decimal(charge),
        cost=Decimal("60000"),
        **fields,
    )


@pytest.fixture
def world(operator, make_reseller) -> dict[str, object]:
    """At least one object of every model registered in the admin, ours and the third-party apps'."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_q.models import OrmQ, Schedule, Task

    reseller = make_reseller("budi", deposit=68_350)
    apikey_rotate(reseller)
    deposit = deposit_request_create(user=reseller, amount=Decimal("500000"), method="bank", note="BCA")
    providers = fake_providers(masking=True)
    catalogue_apply(providers["smm"], [IG])
    pricing_refresh()
    smm = Service.objects.get(provider=providers["smm"], external_id="101")
    order = _order(reseller, smm, status="unknown", target="https://instagram.com/a", quantity=100)
    OrderEvent.objects.create(order=order, from_status="submitting", to_status="unknown", code="outcome_unknown")
    sms = _order(reseller, Service.objects.filter(kind="sms").first(), charge="250", message="Halo")
    OrderRecipient.objects.create(order=sms, number="6281234567890", state="delivered")
    CallbackEvent.objects.create(provider=providers["rajasms"], external_id="R1", state="delivered", code="2")
    masking = providers["masking"]
    InboxMessage.objects.create(provider=masking, key="k1", external_id="9", number="6281234567890", text="YA")
    run = SmsReconciliation.objects.create(
        provider=masking, day=timezone.localdate(), status="ok", upstream_count=2, panel_count=1, ran_at=timezone.now()
    )
    SmsDifference.objects.create(run=run, kind="unknown", external_id="77", number="6281234567890")
    PriceLevelTier.objects.create(level="premium", tier=reseller.tier)
    account = SandboxAccount.objects.create(kind="smm_v2", name="Toko SMM", api_key="sb-key", balance=1_000_000)
    sandbox_order = place_order(account, Decimal("6835"), service_id="1", service_name="IG", quantity=100)
    SandboxRefill.objects.create(order=sandbox_order)
    Group.objects.create(name="Operator")
    TOTPDevice.objects.create(user=operator, name="HP")
    Schedule.objects.create(func="orders.tasks.refresh_tick", schedule_type=Schedule.MINUTES, minutes=1)
    now = timezone.now()
    for success in (True, False):
        Task.objects.create(
            id=f"t{success}",
            name=f"task-{success}",
            func="orders.tasks.refresh_tick",
            started=now,
            stopped=now,
            success=success,
        )
    OrmQ.objects.create(key="default", payload="x", lock=now + timedelta(minutes=1))
    AccessAttempt.objects.create(username="maling", ip_address="10.0.0.1", failures_since_start=3)
    AccessLog.objects.create(username="ops", ip_address="10.0.0.2")
    AccessFailureLog.objects.create(username="maling", ip_address="10.0.0.1")
    return {"reseller": reseller, "deposit": deposit, "order": order, "sms": sms}


def _pages(world: dict[str, object], operator: User) -> list[str]:
    """Every registered model's changelist, add page (where adding is allowed) and one object's change page,
    plus the admin's own screens: index, reports, balances, the user's password form."""
    request = RequestFactory().get("/admin/")
    request.user = operator
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        urls.append(reverse("admin:app_list", args=[model._meta.app_label]))
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} to show"
        urls.append(reverse(f"{prefix}_change", args=[obj.pk]))
        urls.append(reverse(f"{prefix}_history", args=[obj.pk]))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"{prefix}_add"))
    reseller = world["reseller"]
    urls += [
        reverse("admin:auth_user_password_change", args=[reseller.pk]),
        reverse("admin:reports_profit"),
        reverse("admin:reports_balances"),
        reverse("admin:providers_provider_balances"),
        reverse("admin:accounts_depositrequest_changelist") + "?status__exact=pending",
        reverse("admin:orders_order_changelist") + "?status__exact=unknown&kind__exact=smm",
        reverse("admin:providers_serviceprice_changelist") + "?margin=loss",
        reverse("admin:providers_service_changelist") + "?margin_guard=yes",
        reverse("admin:providers_markuprule_changelist") + "?scope=global",
    ]
    return urls


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    client.cookies["django_language"] = "id"
    return client


def test_every_admin_page_is_indonesian(operator_client, operator, world):
    missing: dict[str, set[str]] = {}
    for url in _pages(world, operator):
        with untranslated_msgids() as misses:
            response = operator_client.get(url)
            assert response.status_code == 200, url
        if misses:
            missing[url] = set(misses)
    assert not missing, "\n".join(f"{url}: {sorted(m)}" for url, m in missing.items())


def test_admin_action_pages_and_messages_are_indonesian(operator_client, world):
    changelists = {
        "user": reverse("admin:accounts_user_changelist"),
        "deposit": reverse("admin:accounts_depositrequest_changelist"),
        "order": reverse("admin:orders_order_changelist"),
        "sandbox": reverse("admin:sandbox_sandboxaccount_changelist"),
    }
    forms = [
        (changelists["user"], {"action": "adjust_balance", "_selected_action": [world["reseller"].pk]}),
        (changelists["deposit"], {"action": "reject", "_selected_action": [world["deposit"].pk]}),
        (changelists["order"], {"action": "resolve_placed", "_selected_action": [world["order"].pk]}),
    ]
    done = [
        (
            changelists["user"],
            {
                "action": "adjust_balance",
                "_selected_action": [world["reseller"].pk],
                "apply": "1",
                "amount": "1.650",
                "reason": "bonus",
            },
        ),
        (changelists["order"], {"action": "resolve_placed", "_selected_action": [world["order"].pk, world["sms"].pk]}),
        (changelists["deposit"], {"action": "approve", "_selected_action": [world["deposit"].pk]}),
        (changelists["deposit"], {"action": "approve", "_selected_action": [world["deposit"].pk]}),
        (changelists["sandbox"], {"action": "clear_faults", "_selected_action": [SandboxAccount.objects.get().pk]}),
    ]
    missing: list[str] = []
    with untranslated_msgids() as misses:
        for url, data in forms:
            assert operator_client.post(url, data).status_code == 200
        for url, data in done:
            response = operator_client.post(url, data, follow=True)
            assert response.status_code == 200
            missing += [str(m) for m in response.context["messages"]]
    assert not misses, sorted(misses)
    text = "\n".join(missing)
    assert "Rp 1.650" in text and "Rp 500.000" in text, text


def test_every_model_name_is_translatable():
    assert untranslatable_names() == []


def _plain_labels(operator: User) -> list[str]:
    """Labels our admin shows that are plain str (never looked up, so untranslated_msgids cannot see them):
    app names, column and action descriptions, fieldset and filter titles, inline names."""
    from django.apps import apps
    from django.contrib.admin.utils import label_for_field

    request = RequestFactory().get("/admin/")
    request.user = operator
    found = [
        f"app {config.label}: {config.verbose_name}"
        for config in apps.get_app_configs()
        if config.label in OUR_ADMIN_APPS and not isinstance(config.verbose_name, Promise)
    ]

    def check(where: str, label: object) -> None:
        if label is not None and not isinstance(label, Promise):
            found.append(f"{where}: {label}")

    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_ADMIN_APPS:
            continue
        obj = model._default_manager.first()
        for name in [*model_admin.get_list_display(request), *model_admin.get_readonly_fields(request, obj)]:
            if not isinstance(name, str) or not hasattr(model_admin, name):
                continue  # a model field: its verbose name is checked by untranslatable_names
            check(f"{model_admin} column {name}", label_for_field(name, model, model_admin))
        for _func, name, description in model_admin.get_actions(request).values():
            check(f"{model_admin} action {name}", description)
        for title, _options in model_admin.get_fieldsets(request, obj):
            check(f"{model_admin} fieldset", title)
        for spec in model_admin.list_filter:
            if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter):
                check(f"{model_admin} filter", spec.title)
        for inline in model_admin.get_inline_instances(request, obj):
            check(f"{inline} name", inline.verbose_name_plural)
    return found


def test_admin_labels_are_translatable(operator, world):
    assert _plain_labels(operator) == []


def test_csv_headers_are_translated_and_name_the_currency():
    with override("id"), untranslated_msgids() as misses:
        headers = [*order_header(operator=True), *order_header(operator=False), *ledger_header(operator=True)]
        headers += profit_header()
    assert not misses, sorted(misses)
    assert "Biaya (Rp)" in headers or any("(Rp)" in h for h in headers)
    for header in (order_header(operator=True), ledger_header(operator=True), profit_header()):
        assert sum("(Rp)" in str(h) for h in header) >= 2, header


# --- money -----------------------------------------------------------------------------------------------
def test_order_changelist_and_change_page_show_rupiah(operator_client, world):
    page = operator_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "Rp 68.350" in page and "68350" not in page
    order = world["order"]
    page = operator_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Rp 68.350" in page and "Rp 60.000" in page and "68350" not in page and "60000,00" not in page
    assert 'name="charge"' not in page  # read-only: shown, not an input


def test_deposit_change_page_shows_rupiah(operator_client, world):
    url = reverse("admin:accounts_depositrequest_change", args=[world["deposit"].pk])
    page = operator_client.get(url).content.decode()
    assert "Rp 500.000" in page and "500000" not in page


def test_ledger_entry_shows_rupiah(operator_client, world):
    entry = LedgerEntry.objects.get(wallet__user=world["reseller"])
    listing = operator_client.get(reverse("admin:accounts_ledgerentry_changelist")).content.decode()
    detail = operator_client.get(reverse("admin:accounts_ledgerentry_change", args=[entry.pk])).content.decode()
    for page in (listing, detail):
        assert "Rp 68.350" in page and "68350" not in page


def test_wallet_service_and_provider_money_shows_rupiah(operator_client, world):
    wallets = operator_client.get(reverse("admin:accounts_wallet_changelist")).content.decode()
    assert "Rp 68.350" in wallets
    services = operator_client.get(reverse("admin:providers_service_changelist")).content.decode()
    assert "Rp 10.000" in services and "10000,0000" not in services
    Provider.objects.filter(name="SMM").update(last_balance=Decimal("250000"), low_balance_threshold=500000)
    for url in (reverse("admin:providers_provider_changelist"), reverse("admin:providers_provider_balances")):
        page = operator_client.get(url).content.decode()
        assert "Rp 250.000" in page and "250,000" not in page, url


def test_str_is_indonesian_with_rupiah(world):
    order, deposit = world["order"], world["deposit"]
    entry = LedgerEntry.objects.get(wallet__user=world["reseller"])
    with override("id"):
        assert str(order) == f"Pesanan #{order.pk} · Media sosial · belum pasti"
        assert str(deposit) == f"Deposit #{deposit.pk} · budi · Rp 500.000 · menunggu persetujuan"
        assert str(entry) == f"Entri #{entry.pk} · budi · deposit · Rp 68.350"
        assert str(entry.wallet) == "budi: Rp 68.350"
    with override("en"):
        assert str(order) == f"Order #{order.pk} · Social media · unknown"
        assert str(deposit) == f"Deposit #{deposit.pk} · budi · Rp 500.000 · waiting for approval"


def test_order_changelist_queries_do_not_grow_with_rows(operator_client, world):
    url = reverse("admin:orders_order_changelist")
    operator_client.get(url)
    with CaptureQueriesContext(connection) as few:
        operator_client.get(url)
    reseller, service = world["reseller"], Service.objects.get(external_id="101")
    for _ in range(20):
        _order(reseller, service)
    with CaptureQueriesContext(connection) as many:
        assert operator_client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_admin_reads_in_english_too(client, operator, world):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "Rp 68.350" in page and "Orders" in page
    index = client.get(reverse("admin:index")).content.decode()
    assert "Accounts" in index and "Reports" in index


def test_money_inputs_read_indonesian_amounts(operator_client, world):
    """An operator types Rupiah as written in Indonesia: "1.500" is fifteen hundred, not one and a half."""
    url = reverse("admin:providers_markuprule_add")
    form = operator_client.get(url).content.decode()
    assert 'name="fixed" value="0"' in form and 'inputmode="decimal"' in form
    data = {"tier": "", "service": "", "category": "Instagram", "provider": "", "percent": "10"}
    data |= {"fixed": "1.500", "rounding_step": "Rp 50", "fixed_price": "", "is_active": "on", "note": ""}
    response = operator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = MarkupRule.objects.get(category="Instagram")
    assert (rule.fixed, rule.rounding_step) == (Decimal("1500"), Decimal("50"))
    page = operator_client.get(reverse("admin:providers_markuprule_change", args=[rule.pk])).content.decode()
    assert 'name="fixed" value="1.500"' in page
    bad = operator_client.post(url, data | {"category": "TikTok", "fixed": "seribu"})
    assert bad.status_code == 200 and "Masukkan jumlah dalam Rupiah" in bad.content.decode()
