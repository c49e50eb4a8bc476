"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against `live_server`, with the
sandbox providers of every kind running on that same server and their clocks shortened to seconds.

- A missing Playwright or Chromium FAILS the tests with a clear message (CI installs both); nothing is
  skipped silently.
- Playwright's sync API keeps an asyncio loop marked as running on the main thread while the browser is
  open, and Django refuses ORM calls in a thread with a running loop. The test code here is plain sync
  code, so DJANGO_ALLOW_ASYNC_UNSAFE is set while (and only while) the browser is open, and the browser
  tests are moved to the end of the run so that no other test runs with that loop around.
- Screenshots (dashboard, an order form, an order page, at 375 px) go to test-artifacts/ (git-ignored).
- The Content-Security-Policy (panel/settings.py) is on in every browser test: the `page` fixture records
  the browser console and uncaught page errors, and a test whose page reported a CSP violation fails, even
  if its own assertions passed. Chromium words them "Applying inline style violates the following Content
  Security Policy directive ..." (older releases: "Refused to apply inline style because it violates ...").
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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
# Every page a reseller reaches from the menu (an order page is added where a test has one).
RESELLER_PAGES = [
    "/",
    "/katalog/",
    "/pesan/",
    "/pesan/otp/",
    "/pesan/smm/",
    "/pesan/prepaid/",
    "/pesan/sms/",
    "/pesanan/",
    "/accounts/saldo/",
    "/accounts/deposit/",
    "/accounts/api/",
    "/accounts/password/",
]
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


CSP_MARK = "content security policy"  # how Chromium words every violation it reports in the console


@dataclass
class BrowserConsole:
    """What the browser said while a test ran: console messages (with Chromium's own reports, such as CSP
    violations and failed loads) and uncaught exceptions of the page's scripts."""

    tab: Any
    messages: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        self.messages.append(f"[{message.type}] {self.tab.url}: {message.text}")

    def on_page_error(self, error: Any) -> None:
        self.page_errors.append(f"[pageerror] {self.tab.url}: {error}")

    def settle(self) -> None:
        """Let Playwright deliver the events the browser has already sent (they arrive between calls)."""
        with contextlib.suppress(Exception):  # a closed page has nothing more to say
            self.tab.wait_for_timeout(100)

    def csp_violations(self) -> list[str]:
        return [line for line in self.messages + self.page_errors if CSP_MARK in line.lower()]

    def take_csp_violations(self) -> list[str]:
        """The violations reported since the last call (for checking one page at a time)."""
        self.settle()
        found = self.csp_violations()
        self.messages = [m for m in self.messages if m not in found]
        self.page_errors = [e for e in self.page_errors if e not in found]
        return found


@pytest.fixture
def page(browser, live_server, request) -> Iterator[Any]:
    """A phone-sized page on the live server; a screenshot is kept when the test fails, and the test
    fails when the page reported a Content-Security-Policy violation (see pytest_runtest_makereport)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    console = BrowserConsole(tab)
    tab.on("console", console.on_console)
    tab.on("pageerror", console.on_page_error)
    request.node.browser_console = console
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def browser_console(page, request) -> BrowserConsole:
    """The console of the `page` fixture's tab (to check one page at a time)."""
    return request.node.browser_console


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    console: BrowserConsole | None = getattr(item, "browser_console", None)
    if console is not None:
        console.settle()  # the page is still open here: the fixture's teardown comes after this report
        violations = console.csp_violations()
        if violations and report.passed:
            report.outcome = "failed"
            report.longrepr = "The page reported Content-Security-Policy violations:\n" + "\n".join(violations)
        if report.failed:
            lines = console.messages + console.page_errors
            report.sections.append(("browser console", "\n".join(lines) or "(nothing)"))
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
