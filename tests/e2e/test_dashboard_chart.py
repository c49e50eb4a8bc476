"""The dashboard's daily-spend chart in Chromium at 375 px: a tooltip with the day and its exact amount under
the mouse, under a finger (a touch-screen page) and on the arrow keys; axis text no larger than the body's at
1280 px; no sideways scrolling and no Content-Security-Policy violation (the tooltip is placed through the
CSSOM, which the policy allows)."""

from __future__ import annotations

import re

import pytest
from django.utils import formats, translation

from accounts.money import format_rupiah
from orders.selectors import daily_spend, wib_today
from tests.e2e.conftest import PHONE, BrowserConsole, screenshot
from tests.e2e.test_reseller_browser import expect, fill_prepaid, log_in, no_sideways_scroll, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def day_text(day) -> str:
    with translation.override("id"):
        return formats.date_format(day, "D, j M Y")


def test_chart_tooltip_on_hover_tap_and_keys(page, browser_console, panel, browser, live_server):
    log_in(page, panel)
    place(page, "prepaid", fill_prepaid(panel))
    today = wib_today()
    spent = format_rupiah(daily_spend(panel.reseller, 30, today)[-1].amount)
    assert spent != "Rp 0"
    page.goto("/")
    chart = page.get_by_test_id("spend-chart")
    expect()(chart.get_by_test_id("chart-y-ticks")).to_contain_text("Rp 0")
    tip = chart.get_by_test_id("chart-tip")
    expect()(tip).to_be_hidden()

    chart.locator("g.day").last.hover()  # a mouse
    expect()(tip).to_be_visible()
    expect()(tip).to_have_text(re.compile(re.escape(day_text(today)) + r"\s*" + re.escape(spent)))
    box, plot = tip.bounding_box(), chart.locator(".chart-plot").bounding_box()
    assert plot["x"] <= box["x"] and box["x"] + box["width"] <= plot["x"] + plot["width"] + 1, (box, plot)
    screenshot(page, "dashboard-chart-tooltip")
    no_sideways_scroll(page)
    page.mouse.move(5, 5)  # off the chart
    expect()(tip).to_be_hidden()

    chart.locator(".chart-plot").focus()  # the keyboard: today first, then back a day
    expect()(tip).to_contain_text(spent)
    page.keyboard.press("ArrowLeft")
    expect()(tip).to_contain_text(day_text(today.fromordinal(today.toordinal() - 1)))
    assert not browser_console.take_csp_violations()

    # Axis labels are page-sized text at 1280 px (the old SVG's grew with the card past the headings).
    page.set_viewport_size({"width": 1280, "height": 900})
    body, heading, axis = page.evaluate(
        """() => [document.body, document.querySelector('.card h2'), document.querySelector('.chart-x .end')]
            .map(e => parseFloat(getComputedStyle(e).fontSize))"""
    )
    assert axis <= body < heading, (axis, body, heading)

    # A finger: a touch-screen phone of the same size, logged in with the same session.
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True, locale="id-ID"
    )
    try:
        context.add_cookies(page.context.cookies())
        phone = context.new_page()
        console = BrowserConsole(phone)
        phone.on("console", console.on_console)
        phone.on("pageerror", console.on_page_error)
        phone.goto("/")
        touch_tip = phone.get_by_test_id("chart-tip")
        phone.locator("g.day").last.tap()
        expect()(touch_tip).to_be_visible()
        expect()(touch_tip).to_contain_text(spent)
        phone.get_by_role("heading", name="Belanja harian, 30 hari terakhir").tap()  # elsewhere: it goes
        expect()(touch_tip).to_be_hidden()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert not console.take_csp_violations()
        assert not console.page_errors
    finally:
        context.close()
