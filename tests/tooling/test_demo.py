"""`make demo`: the reseller's order history (once, weeks long, books clean), the block with the URLs and
logins, and the demo-only log filter (the simulator's access lines summarised, errors kept)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import LedgerEntry, LedgerKind, User, Wallet
from accounts.selectors import ledger_violations
from orders.models import Order
from providers.adapters.types import Status
from tooling import demo, demo_logging
from tooling.demo_logging import DemoAccessFilter
from tooling.management.commands.demo import ready_block

WIB_DAY = range(7, 23)  # 07:00-22:59 WIB


@pytest.fixture
def shop(live_server, settings):
    from tests.orders.sandbox_shop import open_shop

    return open_shop(live_server.url, settings)


@pytest.mark.django_db(transaction=True)
def test_history_is_seeded_once_over_weeks_with_sandbox_products_and_clean_books(shop, live_server):
    demo.ensure_demo_users()
    reseller = User.objects.get(username=demo.DEMO_RESELLER)

    result = demo.ensure_demo_history()
    demo.ensure_demo_deposit()
    assert result is not None and result.orders == demo.HISTORY_ORDERS
    orders = Order.objects.filter(user=reseller)
    entries = LedgerEntry.objects.count()

    # A second set-up adds nothing: no history, no second deposit.
    assert demo.ensure_demo_history() is None
    demo.ensure_demo_deposit()
    assert orders.count() == demo.HISTORY_ORDERS and LedgerEntry.objects.count() == entries

    times = sorted(orders.values_list("created_at", flat=True))
    assert times[-1] - times[0] >= timedelta(days=21)
    wib_hours = Counter(((t + timedelta(hours=7)).hour in WIB_DAY) for t in times)
    assert wib_hours[True] > 3 * wib_hours[False]  # daytime-heavy

    statuses = Counter(orders.values_list("status", flat=True))
    assert set(orders.values_list("kind", flat=True)) == {"otp", "smm", "prepaid", "sms"}
    assert all(Status(s).is_final for s in statuses)  # the worker never has history to refresh
    assert statuses["completed"] > sum(statuses.values()) / 2
    assert statuses["failed"] and statuses["partial"] and orders.filter(refunded__gt=0).exists()

    # Real products of the sandbox providers, with upstream ids clear of the sandbox's own and real costs.
    sandbox_ids = {p.pk for p in shop.providers.values()}
    assert set(orders.values_list("provider_id", flat=True)) <= sandbox_ids
    assert not orders.exclude(service__provider_id__in=sandbox_ids).exists()
    placed = orders.exclude(external_id="")
    assert all(int(x) >= demo.HISTORY_EXTERNAL_IDS_FROM for x in placed.values_list("external_id", flat=True))
    assert set(orders.filter(external_id="").values_list("status", flat=True)) <= {"failed"}  # refused at once
    assert not orders.filter(cost__lte=0).exists()

    # Every balance change is a ledger entry: the books balance, one charge per order.
    assert ledger_violations() == []
    wallet = Wallet.objects.get(user=reseller)
    assert wallet.balance == LedgerEntry.objects.filter(wallet=wallet).aggregate(s=Sum("amount"))["s"]
    charges = LedgerEntry.objects.filter(wallet=wallet, kind=LedgerKind.CHARGE)
    assert charges.count() == demo.HISTORY_ORDERS
    assert LedgerEntry.objects.filter(wallet=wallet).order_by("-id").first().reason == "Saldo demo"


def test_the_block_has_the_urls_and_logins():
    creds = demo.DemoCredentials(operator_password="op-Secret-1", reseller_password="rs-Secret-2")
    block = ready_block("http://127.0.0.1:8031/", creds, started=0.0, worker=True)
    lines = block.strip().splitlines()
    assert lines[0].startswith("====") and lines[-1] == lines[0]  # framed, easy to find
    assert len(lines) <= 10
    for text in (
        "http://127.0.0.1:8031/",
        "http://127.0.0.1:8031/admin/",
        "operator / op-Secret-1",
        "reseller / rs-Secret-2",
    ):
        assert text in block


@pytest.mark.django_db
def test_setup_only_prints_the_block_once(capsys):
    call_command("demo", "--setup-only")
    out = capsys.readouterr().out
    assert out.count("http://127.0.0.1:8000/admin/") == 1
    assert User.objects.get(username=demo.DEMO_RESELLER).wallet.balance == demo.DEMO_DEPOSIT


def access_record(request_line: str, status: int) -> logging.LogRecord:
    """A record as runserver's request handler logs it (django.core.servers.basehttp)."""
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    return logging.LogRecord("django.server", level, __file__, 0, '"%s" %s %s', (request_line, str(status), "2"), None)


def test_the_filter_drops_the_simulators_access_lines_and_summarises_them():
    access = DemoAccessFilter()
    for i in range(1000):
        assert not access.filter(access_record(f"POST /callbacks/3/secret-token-{i}/ HTTP/1.1", 200))
    assert not access.filter(access_record("POST /sandbox/rajasms/sms/api_sms_reguler_send_json.php HTTP/1.1", 200))
    assert not access.filter(access_record("GET /healthz HTTP/1.1", 200))
    summary = access.take_summary()
    assert "1,000 provider callbacks" in summary and "1 sandbox vendor calls" in summary
    assert access.take_summary() == ""  # counted once


def test_the_filter_keeps_the_panels_own_lines_and_every_error():
    access = DemoAccessFilter()
    assert access.filter(access_record("GET /pesanan/ HTTP/1.1", 200))
    assert access.filter(access_record("POST /accounts/login/ HTTP/1.1", 302))
    assert access.filter(access_record("GET /sandbox/nope HTTP/1.1", 404))
    assert access.filter(access_record("POST /callbacks/3/token/ HTTP/1.1", 500))
    assert access.filter(logging.LogRecord("django.server", logging.INFO, __file__, 0, "no request line", (), None))
    assert access.take_summary() == ""


def test_quiet_logging_is_installed_on_the_demos_loggers_only():
    server, queue = logging.getLogger("django.server"), logging.getLogger("django-q")
    level = queue.level
    try:
        access = demo_logging.quiet_demo_logging()
        assert access in server.filters
        assert not queue.isEnabledFor(logging.INFO) and queue.isEnabledFor(logging.WARNING)
        assert logging.getLogger("orders").isEnabledFor(logging.INFO) or logging.getLogger().level > logging.INFO
    finally:
        server.removeFilter(access)
        queue.setLevel(level)


def test_the_worker_logs_warnings_unless_told_otherwise():
    assert demo_logging.worker_environment({"PATH": "/bin"})["LOG_LEVEL"] == "WARNING"
    assert demo_logging.worker_environment({"LOG_LEVEL": "DEBUG"})["LOG_LEVEL"] == "DEBUG"
