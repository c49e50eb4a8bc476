"""Content-Security-Policy in Chromium: every reseller page and every admin page we serve carries the
header, and the browser reports no violation on any of them (no inline script or style is left that would
need 'unsafe-inline'). The `page` fixture fails any browser test whose page reported a violation; here each
page is also checked on its own, so a failure names the page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import DepositRequest, User
from accounts.services import wallet_get
from orders.models import Order
from providers.models import Provider, ServicePrice
from tests.e2e.conftest import LIVE_TIMEOUT_MS, RESELLER_PAGES, BrowserConsole
from tests.e2e.test_reseller_browser import expect, fill_smm, log_in, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OPERATOR_PASSWORD = "Operator-Rahasia-2024"


def check_policy(response, path: str) -> None:
    assert response is not None, path
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, (path, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)


def no_violations(console: BrowserConsole, what: str) -> None:
    violations = console.take_csp_violations()
    assert not violations, f"{what}: the browser refused\n" + "\n".join(violations)


def visit(page, console: BrowserConsole, path: str, *, status: int = 200) -> None:
    """Open `path`, check its status and policy header, and that the browser refused nothing on it."""
    response = page.goto(path)
    assert response is not None and response.status == status, (path, response and response.status)
    check_policy(response, path)
    no_violations(console, path)


def submit(page, console: BrowserConsole, click, what: str) -> None:
    """Submit a form (a POST, so no page.goto) and check the page it answers with."""
    with page.expect_navigation() as navigation:
        click()
    check_policy(navigation.value, what)
    no_violations(console, what)


def test_reseller_pages(page, browser_console, panel):
    visit(page, browser_console, "/accounts/login/")
    log_in(page, panel)
    no_violations(browser_console, "log in")
    for path in RESELLER_PAGES:
        visit(page, browser_console, path)

    # An SMM order through the form, the confirmation page and the order page, whose live box is replaced
    # (innerHTML, progress bar included) while it moves to completed: still nothing refused.
    order_id = place(page, "smm", fill_smm(panel))
    no_violations(browser_console, "order form and confirmation")
    visit(page, browser_console, f"/pesanan/{order_id}/")
    live = page.get_by_test_id("order-live")
    expect()(live).to_have_attribute("data-final", "1", timeout=LIVE_TIMEOUT_MS)
    expect()(live.locator("progress.progress")).to_have_attribute("value", re.compile(r"^\d+$"))
    no_violations(browser_console, "live order updates")

    # The language switch submits itself from panel.js (it was an inline onchange handler).
    with page.expect_navigation():
        page.get_by_test_id("language").select_option("en")
    expect()(page.locator("html")).to_have_attribute("lang", "en")
    no_violations(browser_console, "language switch")


def test_lockout_page(page, browser_console, panel, settings):
    """django-axes' lockout page comes from its middleware, after ours in the chain: it has the header too."""
    page.goto("/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", panel.reseller.username)
        page.fill("#id_password", "salah-salah-salah")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name=re.compile("Masuk|Log in")).click()
    response = navigation.value
    assert response.status == 429, response.status
    check_policy(response, "lockout")
    no_violations(browser_console, "lockout")


def test_csrf_failure_page(page, browser_console, panel):
    """A login form posted without its CSRF cookie gets our 403 page (Django's own has an inline style)."""
    visit(page, browser_console, "/accounts/login/")
    page.context.clear_cookies()
    page.fill("#id_username", panel.reseller.username)
    page.fill("#id_password", panel.password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=re.compile("Masuk|Log in")).click()
    assert navigation.value.status == 403
    check_policy(navigation.value, "csrf failure")
    no_violations(browser_console, "csrf failure")
    expect()(page.get_by_test_id("csrf-failure")).to_be_visible()


@pytest.fixture
def operator_data(panel):
    """An operator, a finished SMM order and one in "unknown", a pending deposit and a TOTP device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    operator = User.objects.create_superuser("operator", email="ops@example.com", password=OPERATOR_PASSWORD)
    wallet_get(operator)
    service = panel.shop.smm
    common = {
        "user": panel.reseller,
        "kind": "smm",
        "service": service,
        "provider": service.provider,
        "unit_price": Decimal("15"),
        "unit_cost": Decimal("10"),
        "quantity": 1000,
        "charge": Decimal("15000"),
        "cost": Decimal("10000"),
        "target": "https://instagram.com/p/csp",
    }
    done = Order.objects.create(
        status="partial", external_id="90001", remains=400, start_count=10, finished_at=timezone.now(), **common
    )
    unknown = Order.objects.create(status="unknown", **common)
    deposit = DepositRequest.objects.create(user=panel.reseller, amount=Decimal("50000"), method="bank")
    device = TOTPDevice.objects.create(user=operator, name="telefon", confirmed=True)
    return {"order": done, "unknown": unknown, "deposit": deposit, "device": device}


def admin_log_in(page, console: BrowserConsole) -> None:
    visit(page, console, "/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", OPERATOR_PASSWORD)
    submit(page, console, lambda: page.locator("input[type=submit]").click(), "admin log in")
    assert page.url.endswith("/admin/"), page.url


def run_action(page, console: BrowserConsole, changelist: str, pk: int, action: str) -> None:
    """Tick one row of a changelist and run an admin action that answers with its own page."""
    visit(page, console, changelist)
    page.locator(f"input.action-select[value='{pk}']").check()
    page.select_option("select[name=action]", action)
    submit(page, console, lambda: page.locator("button[name=index]").click(), f"{changelist} {action}")


def test_admin_pages(page, browser_console, panel, operator_data):
    order, unknown = operator_data["order"], operator_data["unknown"]
    deposit, device = operator_data["deposit"], operator_data["device"]
    admin_log_in(page, browser_console)
    for path in [
        "/admin/",
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        "/admin/orders/order/reports/profit/",
        "/admin/orders/order/reports/balances/",
        "/admin/providers/provider/balances/",
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",  # the QR code page
        "/admin/password_change/",
    ]:
        visit(page, browser_console, path)
    visit(page, browser_console, f"/admin/accounts/depositrequest/{deposit.pk}/change/")
    expect()(page.locator("#deposit-decision")).to_be_visible()  # the approve / reject box
    run_action(page, browser_console, "/admin/accounts/user/", panel.reseller.pk, "adjust_balance")
    run_action(page, browser_console, "/admin/accounts/depositrequest/", deposit.pk, "reject")
    run_action(page, browser_console, "/admin/orders/order/", unknown.pk, "resolve_placed")


def admin_urls(model_admin, objects) -> list[str]:
    opts = model_admin.model._meta
    urls = []
    for name, args in [("changelist", []), ("add", [])] + [("change", [pk]) for pk in objects]:
        try:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args))
        except NoReverseMatch:
            pass
    return urls


def test_every_admin_changelist_add_and_change_page(page, browser_console, panel, operator_data):
    """Django's own admin screens (and django-q2's, django-axes', django-otp's) under the policy."""
    admin_log_in(page, browser_console)
    for model, model_admin in admin.site._registry.items():
        objects = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:1])
        for url in admin_urls(model_admin, objects):
            response = page.goto(url)
            assert response is not None and response.status in (200, 403), (url, response and response.status)
            check_policy(response, url)
            no_violations(browser_console, url)


# Columns the admin builds in Python (format_html) mark a low balance or a loss with class="negative"
# (static/css/admin-extra.css), never a style attribute.
def test_admin_low_balance_column(page, browser_console, panel, operator_data):
    Provider.objects.filter(pk=panel.shop.smm.provider_id).update(
        last_balance=Decimal("1000"), low_balance_threshold=Decimal("50000")
    )
    admin_log_in(page, browser_console)
    visit(page, browser_console, "/admin/providers/provider/")


def test_admin_loss_margin_column(page, browser_console, panel, operator_data):
    price = ServicePrice.objects.filter(service=panel.shop.smm).select_related("service").first()
    price.price, price.on_sale = price.service.cost, False
    price.save(update_fields=["price", "on_sale"])
    admin_log_in(page, browser_console)
    visit(page, browser_console, "/admin/providers/serviceprice/")
