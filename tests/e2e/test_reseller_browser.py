"""A reseller in a phone-sized Chromium: log in, place one order of each kind through the forms, watch
the OTP code and the SMM status arrive without reloading, cancel an OTP order and find the refund in the
balance, download a CSV, switch the language. Everything runs against the sandbox providers on the live
server; no test calls a real provider."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.selectors import balance_of
from common.views import optional_url
from orders.models import Order
from providers.sandbox.models import SandboxAccount
from tests.e2e.conftest import LIVE_TIMEOUT_MS, RESELLER_PAGES, START_BALANCE, order_id_from, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RUPIAH = re.compile(r"Rp \d{1,3}(\.\d{3})*")


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def log_in(page, panel) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", panel.reseller.username)
    page.fill("#id_password", panel.password)
    page.get_by_role("button", name=re.compile("Masuk|Log in")).click()
    page.wait_for_url(re.compile(r"/$"))
    expect()(page.get_by_test_id("balance")).to_have_text("Rp 1.000.000")


def place(page, kind: str, fill, *, shot: str = "") -> int:
    """Fill the form of `kind`, wait for the live price, check it, pay on the confirmation page."""
    page.goto(f"/pesan/{kind}/")
    fill(page)
    charge = page.get_by_test_id("live-charge")
    expect()(charge).to_have_text(RUPIAH)
    if shot:
        screenshot(page, shot)
    live_price = charge.inner_text()
    page.get_by_test_id("review").click()
    expect()(page.get_by_test_id("confirm-charge")).to_have_text(live_price)  # the charge typed = the charge paid
    if shot:
        screenshot(page, f"{shot}-confirm")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r"/pesanan/\d+/$"))
    return order_id_from(page.url)


def fill_otp(panel):
    def fill(page):
        page.select_option("#id_service", str(panel.shop.otp.pk))
        page.select_option("#id_operator", "any")

    return fill


def fill_smm(panel, link: str = "https://instagram.com/p/e2e-browser"):
    service = panel.shop.smm
    quantity = max(service.min_qty, min(1000, service.max_qty))

    def fill(page):
        page.select_option("#id_service", str(service.pk))
        page.fill("#id_link", link)
        page.fill("#id_quantity", str(quantity))

    return fill


def fill_prepaid(panel):
    def fill(page):
        page.select_option("#id_service", str(panel.shop.prepaid.pk))
        page.fill("#id_target", "081234567890")

    return fill


def fill_sms(page):
    page.select_option("#id_sms_type", "reguler")
    page.fill("#id_message", "Promo hari ini: diskon 10% untuk semua pulsa.")
    page.fill("#id_recipients", "081234567890\n081234567891")
    expect()(page.locator("[data-sms-meter]")).to_contain_text("2 nomor")


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} scrolls sideways on a phone ({width}px); tables must scroll inside their box"


def test_log_in_and_see_the_dashboard(page, panel):
    log_in(page, panel)
    expect()(page.get_by_test_id("spend-chart")).to_be_visible()
    screenshot(page, "dashboard")
    no_sideways_scroll(page)
    for path, name in [("/katalog/", "catalogue"), ("/pesan/", "order-start"), ("/accounts/api/", "api")]:
        page.goto(path)
        screenshot(page, name)
        no_sideways_scroll(page)


def test_one_order_of_each_kind_and_live_status(page, panel):
    log_in(page, panel)

    # OTP: the code arrives a few seconds later, on the open page, without a reload.
    otp_id = place(page, "otp", fill_otp(panel))
    expect()(page.get_by_test_id("otp-waiting")).to_be_visible()
    page.evaluate("window.__same_document = true")
    expect()(page.get_by_test_id("otp-code")).to_have_text(re.compile(r"^\d{4,8}$"), timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.__same_document === true"), "the page was reloaded"
    expect()(page.get_by_test_id("copy-code")).to_be_visible()
    screenshot(page, "order-detail-otp")

    # SMM: pending -> in progress -> completed while the page is open.
    smm_id = place(page, "smm", fill_smm(panel), shot="order-form-smm")
    page.evaluate("window.__same_document = true")
    expect()(page.get_by_test_id("order-live")).to_have_attribute("data-status", "completed", timeout=LIVE_TIMEOUT_MS)
    expect()(page.get_by_test_id("order-status")).to_have_text(re.compile("selesai|completed", re.I))
    assert page.evaluate("window.__same_document === true"), "the page was reloaded"
    expect()(page.get_by_test_id("order-live")).to_have_attribute("data-final", "1")

    # Prepaid: the voucher / serial number appears.
    prepaid_id = place(page, "prepaid", fill_prepaid(panel))
    expect()(page.get_by_test_id("voucher")).to_have_text(re.compile(r"\w{6,}"), timeout=LIVE_TIMEOUT_MS)

    # SMS: two recipients, each with its delivery state.
    sms_id = place(page, "sms", fill_sms)
    expect()(page.get_by_test_id("recipients").locator("tbody tr")).to_have_count(2)
    screenshot(page, "order-detail-sms")
    no_sideways_scroll(page)

    orders = {o.pk: o for o in Order.objects.filter(user=panel.reseller)}
    assert set(orders) == {otp_id, smm_id, prepaid_id, sms_id}
    assert {o.kind for o in orders.values()} == {"otp", "smm", "prepaid", "sms"}
    assert all(o.source == "web" for o in orders.values())
    spent = sum((o.charge - o.refunded for o in orders.values()), Decimal("0"))
    assert balance_of(panel.reseller) == START_BALANCE - spent

    page.goto("/pesanan/")
    expect()(page.get_by_test_id("orders-table").locator("tbody tr")).to_have_count(4)
    screenshot(page, "orders")
    no_sideways_scroll(page)


def test_cancel_an_otp_order_and_see_the_refund(page, panel):
    SandboxAccount.objects.filter(pk=panel.shop.accounts["virtusim"].pk).update(otp_delay_seconds=-1)  # no code
    log_in(page, panel)
    order_id = place(page, "otp", fill_otp(panel))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("action-cancel").click()
    page.wait_for_url(re.compile(rf"/pesanan/{order_id}/$"))
    expect()(page.get_by_test_id("order-status")).to_have_text(re.compile("dibatalkan|canceled", re.I))
    expect()(page.get_by_test_id("refunded")).to_have_text(RUPIAH)

    page.goto("/accounts/saldo/")
    expect()(page.get_by_test_id("balance")).to_have_text("Rp 1.000.000")
    ledger = page.get_by_test_id("ledger")
    expect()(ledger.locator("tbody tr").first).to_contain_text(f"#{order_id}")
    expect()(ledger.locator("tbody tr").first).to_contain_text("+Rp")
    screenshot(page, "balance")
    no_sideways_scroll(page)


def download_csv(page, test_id: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_test_id(test_id).click()
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_download_a_csv(page, panel):
    if optional_url("orders_csv") is None:
        pytest.xfail("waits on the CSV downloads (url name orders_csv in orders/report_urls.py), not built yet")
    log_in(page, panel)
    order_id = place(page, "prepaid", fill_prepaid(panel))
    order = Order.objects.get(pk=order_id)

    page.goto("/pesanan/")
    rows = download_csv(page, "orders-csv")
    assert len(rows) == 2, rows  # the header and the one order
    header, row = rows
    assert row[0] == str(order_id) and len(row) == len(header)
    assert "081234567890" in row

    page.goto("/accounts/saldo/")
    rows = download_csv(page, "ledger-csv")
    assert len(rows) == 3, rows  # the header, the opening deposit, the charge of the order
    charge = rows[2]
    assert f"-{int(order.charge)}" in charge and str(order_id) in charge[1:], charge
    assert f"{START_BALANCE - int(order.charge)}" in charge  # the balance after it


def test_switch_language(page, panel):
    log_in(page, panel)
    page.get_by_test_id("menu-toggle").click()  # a phone: the menu folds behind its button
    nav = page.get_by_role("navigation", name=re.compile("Menu utama|Main menu"))
    expect()(nav).to_contain_text("Pesanan")
    page.get_by_test_id("language").select_option("en")
    page.wait_for_load_state("load")
    expect()(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_test_id("menu-toggle").click()
    expect()(page.get_by_role("navigation", name="Main menu")).to_contain_text("Orders")
    expect()(page.get_by_text("Recent orders")).to_be_visible()
    page.get_by_test_id("language").select_option("id")
    expect()(page.locator("html")).to_have_attribute("lang", "id")
    expect()(page.get_by_text("Pesanan terbaru")).to_be_visible()


def test_no_page_scrolls_sideways_on_a_phone_and_the_menu_opens(page, panel):
    """375 px: every reseller page fits the screen; the menu folds behind its button and opens whole."""
    log_in(page, panel)
    order_id = place(page, "prepaid", fill_prepaid(panel))
    for path in [*RESELLER_PAGES, f"/pesanan/{order_id}/"]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{path} scrolls sideways: {width} > {inner}"

    page.goto("/")
    toggle, menu = page.get_by_test_id("menu-toggle"), page.locator("#main-nav")
    expect()(toggle).to_have_attribute("aria-expanded", "false")
    expect()(menu).to_be_hidden()
    toggle.click()
    expect()(toggle).to_have_attribute("aria-expanded", "true")
    for name in ("Dasbor", "Katalog", "Pesan baru", "Pesanan", "Saldo", "API", "Kata sandi"):
        expect()(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect()(menu.get_by_role("button", name="Keluar")).to_be_visible()
    menu.get_by_role("link", name="Saldo", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/saldo/$"))
