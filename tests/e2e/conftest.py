"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against `live_server`, with the
sandbox providers of every kind running on that same server and their clocks shortened to seconds.

- A missing Playwright or Chromium FAILS the tests with a clear message (CI installs both); nothing is
  skipped silently.
- Playwright's sync API keeps an asyncio loop marked as running on the main thread while the browser is
  open, and Django refuses ORM calls in a thread with a running loop. The test code here is plain sync
  code, so DJANGO_ALLOW_ASYNC_UNSAFE is set while (and only while) the browser is open, and the browser
  tests are moved to the end of the run so that no other test runs with that loop around.
- Screenshots (dashboard, an order form, an order page, at 375 px) go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
PHONE = {"width": 375, "height": 812}
TIMEOUT_MS = 20_000  # one step (a page load, a click)
LIVE_TIMEOUT_MS = 60_000  # something the sandbox does "later" (an OTP code, an SMM order finishing)
PASSWORD = "Reseller-Rahasia-2024"
START_BALANCE = 1_000_000


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last (see the module docstring)."""
    browser_tests = [item for item in items if item.get_closest_marker("browser")]
    if browser_tests:
        others = [item for item in items if not item.get_closest_marker("browser")]
        items[:] = others + browser_tests


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: the browser tests need it (pip install -e '.[test]').", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: the browser tests need it (apt-get install chromium).", pytrace=False
        )
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, request) -> Iterator[Any]:
    """A phone-sized page on the live server; a screenshot is kept when the test fails."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


@dataclass
class Panel:
    shop: Any  # tests.orders.sandbox_shop.Shop
    reseller: Any
    password: str = PASSWORD


@pytest.fixture
def panel(live_server, settings, make_reseller) -> Panel:
    """Sandbox providers of every kind on the live server, catalogues synced and priced, sandbox clocks
    of a few seconds (OTP code after 3 s, SMM steps of 2 s, prepaid after 2 s), and a reseller."""
    from providers.sandbox.models import SandboxAccount
    from tests.orders.sandbox_shop import LONG_DLR, open_shop

    shop = open_shop(live_server.url, settings)
    SandboxAccount.objects.filter(pk__in=[a.pk for a in shop.accounts.values()]).update(
        otp_delay_seconds=3,
        smm_step_seconds=2,
        prepaid_delay_seconds=2,
        dlr_delay_seconds=LONG_DLR,  # no DLR timer threads on the shared in-memory test database
    )
    reseller = make_reseller("toko-budi", deposit=START_BALANCE)
    reseller.set_password(PASSWORD)
    reseller.save(update_fields=["password"])
    return Panel(shop=shop, reseller=reseller)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def order_id_from(url: str) -> int:
    match = re.search(r"/pesanan/(\d+)/", url)
    assert match, url
    return int(match.group(1))
