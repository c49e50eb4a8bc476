"""Screenshots for review: every reseller page (with an order page of each kind) and the main admin pages,
at 1280 and 375 px, written to test-artifacts/screenshots/<width>/<name>.png on every run.

The reseller has the demo's order history (tooling.demo.ensure_demo_history: weeks of ended orders of every
kind from the sandbox catalogues), so the dashboard chart, the order list and the reports show data. One
browser context per width; each page must answer 200 without a CSP violation, and at 375 px no page, the
admin's included, may scroll sideways (screenshots/index.txt lists each file's address).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry, User
from orders.models import Order
from providers.models import Provider
from tests.e2e.conftest import ARTIFACTS, PHONE, RESELLER_PAGES, BrowserConsole
from tooling.demo import ensure_demo_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = ARTIFACTS / "screenshots"
WIDTHS = {1280: 800, PHONE["width"]: PHONE["height"]}  # width -> viewport height
KINDS = ("otp", "smm", "prepaid", "sms")
OPERATOR_PASSWORD = "Operator-Rahasia-2024"


def page_name(path: str) -> str:
    """/pesan/otp/ -> pesan-otp; / -> dashboard."""
    return re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()) or "dashboard"


def reseller_pages(orders: dict[str, int]) -> list[tuple[str, str]]:
    pages = [(f"reseller-{page_name(path)}", path) for path in RESELLER_PAGES]
    return pages + [(f"reseller-order-{kind}", f"/pesanan/{orders[kind]}/") for kind in KINDS]


def admin_pages(order_id: int) -> list[tuple[str, str]]:
    provider = Provider.objects.order_by("name").first()
    return [
        ("admin-index", reverse("admin:index")),
        ("admin-orders", reverse("admin:orders_order_changelist")),
        ("admin-order", reverse("admin:orders_order_change", args=[order_id])),
        ("admin-ledger", reverse("admin:accounts_ledgerentry_changelist")),
        ("admin-deposits", reverse("admin:accounts_depositrequest_changelist")),
        ("admin-providers", reverse("admin:providers_provider_changelist")),
        ("admin-provider", reverse("admin:providers_provider_change", args=[provider.pk])),
        ("admin-provider-balances", reverse("admin:providers_provider_balances")),
        ("admin-report-profit", reverse("admin:reports_profit")),
        ("admin-report-balances", reverse("admin:reports_balances")),
    ]


def log_in(tab: Any, path: str, username: str, password: str) -> None:
    tab.goto(path)
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    with tab.expect_navigation():
        tab.locator("form [type=submit]").last.click()
    assert "login" not in tab.url, f"{username} could not log in at {path}"


def shoot(tab: Any, console: BrowserConsole, width: int, name: str, path: str, problems: list[str]) -> int:
    """Open `path`, check it, write its full-page PNG; returns how far it scrolls sideways (px, 0 = not)."""
    response = tab.goto(path)
    if response is None or response.status != 200:
        problems.append(f"{width}px {name} ({path}): HTTP {response.status if response else 'no response'}")
    problems.extend(f"{width}px {name}: {line}" for line in console.take_csp_violations())
    file = SHOTS / str(width) / f"{name}.png"
    tab.screenshot(path=str(file), full_page=True)
    if not file.is_file() or file.stat().st_size == 0:
        problems.append(f"{width}px {name}: no screenshot written")
    scroll, inner = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return max(0, scroll - inner)


def test_screenshots_of_every_reseller_page_and_the_main_admin_pages(browser, live_server, panel):
    ensure_demo_history(panel.reseller)
    orders = {
        kind: Order.objects.filter(user=panel.reseller, kind=kind).order_by("-pk").values_list("pk", flat=True)[0]
        for kind in KINDS
    }
    User.objects.create_superuser("operator", email="", password=OPERATOR_PASSWORD)
    assert LedgerEntry.objects.filter(kind="deposit", wallet__user=panel.reseller).count() > 1  # history top-ups
    reseller, admin = reseller_pages(orders), admin_pages(orders["sms"])

    problems: list[str] = []
    index: list[str] = []
    for width, height in WIDTHS.items():
        (SHOTS / str(width)).mkdir(parents=True, exist_ok=True)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}, locale="id-ID",
            timezone_id="Asia/Jakarta",
        )  # fmt: skip
        try:
            tab = context.new_page()
            console = BrowserConsole(tab)
            tab.on("console", console.on_console)
            tab.on("pageerror", console.on_page_error)

            log_in(tab, "/accounts/login/", panel.reseller.username, panel.password)
            for name, path in reseller:
                sideways = shoot(tab, console, width, name, path, problems)
                index.append(f"{width}/{name}.png  {path}" + (f"  scrolls sideways {sideways}px" if sideways else ""))
                if width == PHONE["width"] and sideways:
                    problems.append(f"{width}px {name} ({path}) scrolls sideways by {sideways}px")

            context.clear_cookies()
            log_in(tab, reverse("admin:login"), "operator", OPERATOR_PASSWORD)
            for name, path in admin:
                sideways = shoot(tab, console, width, name, path, problems)
                index.append(f"{width}/{name}.png  {path}" + (f"  scrolls sideways {sideways}px" if sideways else ""))
                if width == PHONE["width"] and sideways:
                    problems.append(f"{width}px {name} ({path}) scrolls sideways by {sideways}px")
        finally:
            context.close()

    Path(SHOTS / "index.txt").write_text("\n".join(index) + "\n", encoding="utf-8")
    assert problems == []
    assert len(list(SHOTS.glob("*/*.png"))) >= 2 * (len(reseller) + len(admin))
