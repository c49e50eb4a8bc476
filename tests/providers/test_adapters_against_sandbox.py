"""The five real adapters end to end against the upstream simulator, over real HTTP (`live_server`).

The sandbox is reached through its real mount (`panel/urls.py`, `/sandbox/`). Time passes by moving
the sandbox orders' timestamps back (`rewind`), never by sleeping; the only waits are the sandbox's
own fault delays (1 s, against a client read timeout of 0.5 s) and delivery callbacks sent at once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from providers.adapters import get_adapter
from providers.adapters.base import ProviderAdapter
from providers.adapters.errors import (
    ProviderBadResponse,
    ProviderNotSupported,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    may_have_happened,
)
from providers.adapters.types import (
    DeliveryState,
    OrderRequest,
    ProductKind,
    ProviderConfig,
    ServiceInfo,
    Status,
)
from providers.sandbox.common import WIB
from providers.sandbox.models import DlrState, Fault, FaultScope, SandboxAccount, SandboxOrder
from providers.sandbox.protocols.osimesa import osimesa_products
from providers.sandbox.protocols.smm_v2 import smm_services
from providers.sandbox.protocols.virtusim import virtusim_services
from providers.sandbox.services import sandbox_base_url
from tests.providers.e2e_helpers import (
    CountingSession,
    close_and_settle,
    closed_port,
    dlr_receiver,
    rewind,
    rewind_refills,
    server_threads,
    share_live_server_connection,
    wait_for,
)

# Transactional: the live server's threads must see what the test writes. Only sandbox tables are
# written, so only they are flushed after each test (a full flush costs more than most tests here).
pytestmark = pytest.mark.django_db(transaction=True, available_apps=["providers.sandbox"])

START_BALANCE = Decimal("100000")
# Seconds the sandbox sleeps on timeout / lose_reply. `fault_delay_seconds` is an integer field, so 1 s
# (not 1.5): still twice the adapter's read timeout below.
FAULT_DELAY = 1
FAST_TIMEOUT = 0.5
WIB = WIB


# --- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def sandbox_enabled(settings):
    settings.SANDBOX_ENABLED = True


@pytest.fixture
def root(live_server) -> str:
    return live_server.url


@pytest.fixture
def make_account(transactional_db) -> Callable[..., SandboxAccount]:
    def make(kind: str, **fields: Any) -> SandboxAccount:
        token = secrets.token_hex(6)
        defaults: dict[str, Any] = {
            "name": f"e2e-{kind}-{token}",
            "api_key": f"key-{token}",
            "user_id": str(10000 + int(token[:4], 16)),
            "username": f"user{token}",
            "password": f"pass-{token}",
            "balance": START_BALANCE,
        }
        defaults.update(fields)
        return SandboxAccount.objects.create(kind=kind, **defaults)

    return make


@pytest.fixture
def connect(root, live_server) -> Iterator[Callable[..., ProviderAdapter]]:
    """The real adapter for a sandbox account, on a request-recording session. Afterwards: no
    request went anywhere but this machine."""
    sessions: list[CountingSession] = []
    before = frozenset(server_threads(live_server))

    def make(account: SandboxAccount, **overrides: Any) -> ProviderAdapter:
        fields: dict[str, Any] = {
            "base_url": sandbox_base_url(account.kind, root),
            "api_key": account.api_key,
            "user_id": account.user_id,
            "username": account.username,
            "password": account.password,
            "name": f"e2e-{account.kind}",
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
        }
        fields.update(overrides)
        session = CountingSession()
        sessions.append(session)
        return get_adapter(account.kind, ProviderConfig(**fields), session=session)

    yield make
    assert close_and_settle(sessions, live_server, ignore=before), "a sandbox request was still running after 5 s"
    hosts = {call.host for session in sessions for call in session.calls}
    assert hosts <= {"localhost", "127.0.0.1"}, hosts


@pytest.fixture
def callbacks(monkeypatch, live_server) -> Iterator[tuple[str, Any]]:
    """A receiver for the sandbox's delivery callbacks (sent from its DLR timer threads)."""
    share_live_server_connection(monkeypatch, live_server)
    with dlr_receiver() as receiver:
        yield receiver


def session_of(adapter: ProviderAdapter) -> CountingSession:
    assert isinstance(adapter.session, CountingSession)
    return adapter.session


def balance_of(account: SandboxAccount) -> Decimal:
    account.refresh_from_db(fields=["balance"])
    return account.balance


def orders_of(account: SandboxAccount) -> list[SandboxOrder]:
    return list(SandboxOrder.objects.filter(account=account).order_by("pk"))


def raised(call: Callable[[], Any]) -> Exception:
    """The exception `call` raises (failing the test if it returns)."""
    try:
        result = call()
    except Exception as exc:
        return exc
    pytest.fail(f"expected an error, got {result!r}")


# --- catalogue picks and requests -------------------------------------------------------------------
def otp_service() -> dict[str, str]:
    return next(s for s in virtusim_services() if s["tersedia"] != "0")


def smm_service(*, refill: bool | None = None, cancel: bool | None = None) -> dict[str, Any]:
    return next(
        s
        for s in smm_services()
        if s["service"].isdigit()
        and (refill is None or s["refill"] is refill)
        and (cancel is None or s["cancel"] is cancel)
    )


def prepaid_product() -> dict[str, Any]:
    return next(p for p in osimesa_products() if p["status"] == "ready" and p["cutoff"]["start"] == p["cutoff"]["end"])


def otp_request() -> OrderRequest:
    return OrderRequest(kind=ProductKind.OTP, service_id=otp_service()["id"])


def smm_request(service: dict[str, Any] | None = None, link: str = "https://instagram.com/p/abc", qty: int = 0):
    service = service or smm_service()
    quantity = qty or max(int(service["min"]), 1000)
    return OrderRequest(kind=ProductKind.SMM, service_id=service["service"], link=link, quantity=quantity)


def prepaid_request(target: str = "081234567890") -> OrderRequest:
    return OrderRequest(kind=ProductKind.PREPAID, service_id=prepaid_product()["code"], target=target)


def sms_request(*numbers: str, route: str = "reguler", message: str = "Kode Anda 1234") -> OrderRequest:
    return OrderRequest(kind=ProductKind.SMS, service_id=route, message=message, recipients=numbers)


PLACEMENTS: dict[str, Callable[[], OrderRequest]] = {
    "virtusim": otp_request,
    "smm_v2": smm_request,
    "osimesa": prepaid_request,
    "rajasms": lambda: sms_request("6281234567890"),
    "masking_http": lambda: sms_request("6281234567890"),
}


# --- credentials --------------------------------------------------------------------------------------
# kind -> (the wrong credential, calls that must each surface the vendor's own text, that text)
WRONG_CREDENTIALS: dict[str, tuple[dict[str, str], list[Callable[[ProviderAdapter], Any]], str]] = {
    "virtusim": (
        {"api_key": "wrong-key"},
        [lambda a: a.fetch_services(), lambda a: a.place_order(otp_request()), lambda a: a.cancel("9001")],
        "API Key salah",
    ),
    "smm_v2": (
        {"api_key": "wrong-key"},
        [lambda a: a.fetch_balance(), lambda a: a.place_order(smm_request()), lambda a: a.fetch_statuses(["1"])],
        "Invalid API key",
    ),
    "osimesa": (
        {"user_id": "999"},  # right key, wrong signature
        [lambda a: a.fetch_services(), lambda a: a.place_order(prepaid_request()), lambda a: a.recent_orders()],
        "Invalid API key or signature.",
    ),
    "rajasms": (
        {"api_key": "wrong-key"},
        [lambda a: a.place_order(sms_request("6281234567890")), lambda a: a.fetch_balance()],
        "ApiKey not register",
    ),
    "masking_http": (
        {"password": "wrong-password"},
        [lambda a: a.place_order(sms_request("6281234567890")), lambda a: a.fetch_balance()],
        "Username atau Password salah",
    ),
}


@pytest.mark.parametrize("kind", list(WRONG_CREDENTIALS))
def test_wrong_credentials_surface_the_vendor_text(kind, make_account, connect):
    # Faulted on purpose: bad credentials get the vendor's own error, never a fault.
    account = make_account(kind, fault=Fault.HTML502)
    overrides, calls, vendor_text = WRONG_CREDENTIALS[kind]
    adapter = connect(account, **overrides)
    for call in calls:
        exc = raised(lambda call=call: call(adapter))
        assert isinstance(exc, ProviderRejected), exc
        assert exc.message == vendor_text
    assert not orders_of(account) and balance_of(account) == START_BALANCE


# --- VirtuSIM -----------------------------------------------------------------------------------------
def test_virtusim_catalogue(make_account, connect):
    services = connect(make_account("virtusim")).fetch_services()
    raw = virtusim_services()
    assert len(services) == len(raw)
    first = services[0]
    assert isinstance(first, ServiceInfo) and first.kind is ProductKind.OTP
    assert first.external_id == raw[0]["id"] and first.name == raw[0]["name"]
    assert first.cost == Decimal(raw[0]["price"]) and isinstance(first.cost, Decimal)
    assert first.stock == int(raw[0]["tersedia"]) and first.in_stock
    out = next(s for s in services if s.stock == 0)
    assert out.in_stock is False


def test_virtusim_operator_choice_and_no_balance_action(make_account, connect):
    adapter = connect(make_account("virtusim"))
    placed = adapter.place_order(OrderRequest(kind=ProductKind.OTP, service_id=otp_service()["id"], operator="axis"))
    assert placed.number.startswith("62838")
    with pytest.raises(ProviderNotSupported):
        adapter.fetch_balance()  # the protocol has no balance action


def test_virtusim_number_waits_then_code_arrives_then_done(make_account, connect):
    account = make_account("virtusim", otp_delay_seconds=20)
    adapter = connect(account)
    placed = adapter.place_order(otp_request())
    assert placed.external_id.isdigit() and placed.number.startswith("628")
    assert placed.status is Status.PENDING
    assert balance_of(account) == START_BALANCE - Decimal(otp_service()["price"])

    [waiting] = adapter.fetch_statuses([placed.external_id])
    assert (waiting.status, waiting.raw_status, waiting.otp_code, waiting.sms_text) == (
        Status.PENDING,
        "Pending",
        "",
        "",
    )
    assert waiting.number == placed.number
    assert adapter.ready(placed.external_id).message == "Berhasil menunggu sms masuk"
    assert adapter.fetch_statuses([placed.external_id])[0].raw_status == "Ready"
    # Resend before a code arrived is refused by the vendor.
    with pytest.raises(ProviderRejected, match="Gagal Resend"):
        adapter.resend(placed.external_id)

    rewind(20, account=account)
    [arrived] = adapter.fetch_statuses([placed.external_id])
    assert (arrived.status, arrived.raw_status) == (Status.PROCESSING, "Otp Diterima")
    assert re.fullmatch(r"\d{6}", arrived.otp_code) and arrived.otp_code in arrived.sms_text
    # Once the code is in, the number was used: cancel is refused.
    with pytest.raises(ProviderRejected, match="Gagal Cancel"):
        adapter.cancel(placed.external_id)

    # Resend: the old SMS stays until the new code arrives one delay later.
    assert adapter.resend(placed.external_id).message == "Berhasil meminta kirim ulang sms"
    assert adapter.fetch_statuses([placed.external_id])[0].otp_code == arrived.otp_code
    rewind(20, account=account)
    [again] = adapter.fetch_statuses([placed.external_id])
    assert again.status is Status.PROCESSING and again.otp_code and again.otp_code != arrived.otp_code

    assert adapter.done(placed.external_id).message == "Berhasil menyelesaikan pesanan"
    session_of(adapter).reset()
    [final] = adapter.fetch_statuses([placed.external_id])
    assert (final.status, final.raw_status, final.otp_code) == (Status.COMPLETED, "Success", again.otp_code)
    assert session_of(adapter).actions == ["active_order", "status"]  # it left the active list
    with pytest.raises(ProviderRejected, match="Gagal Selesai"):
        adapter.done(placed.external_id)
    assert balance_of(account) == START_BALANCE - Decimal(otp_service()["price"])  # a used number is paid


def test_virtusim_cancel_before_the_code_refunds(make_account, connect):
    account = make_account("virtusim", otp_delay_seconds=20)
    adapter = connect(account)
    placed = adapter.place_order(otp_request())
    assert adapter.cancel(placed.external_id).message == "Berhasil membatalkan pesanan"
    [canceled] = adapter.fetch_statuses([placed.external_id])
    assert (canceled.status, canceled.raw_status, canceled.otp_code) == (Status.CANCELED, "Cancel", "")
    assert adapter.recent_orders() == []  # it left active_order
    assert balance_of(account) == START_BALANCE
    with pytest.raises(ProviderRejected, match="Pesanan tidak ditemukan"):
        adapter.cancel("1")


def test_virtusim_vendor_refusals(make_account, connect):
    adapter = connect(make_account("virtusim", balance=Decimal("100")))
    out_of_stock = next(s for s in virtusim_services() if s["tersedia"] == "0")
    cases = [
        (OrderRequest(kind=ProductKind.OTP, service_id="99999"), "Layanan tidak ditemukan"),
        (OrderRequest(kind=ProductKind.OTP, service_id=out_of_stock["id"]), "Layanan tidak tersedia"),
        (OrderRequest(kind=ProductKind.OTP, service_id="1", operator="smartfren"), "Permintaan tidak sesuai"),
        (otp_request(), "Saldo tidak cukup"),
    ]
    for request, text in cases:
        with pytest.raises(ProviderRejected) as caught:
            adapter.place_order(request)
        assert caught.value.message == text


def test_virtusim_one_active_order_request_covers_every_running_order(make_account, connect):
    account = make_account("virtusim", otp_delay_seconds=20)
    adapter = connect(account)
    running = [adapter.place_order(otp_request()).external_id for _ in range(3)]
    canceled = adapter.place_order(otp_request()).external_id
    done = adapter.place_order(otp_request()).external_id
    adapter.cancel(canceled)
    rewind(20, external_id=running[0])  # the first one has its code
    rewind(20, external_id=done)
    adapter.done(done)

    session = session_of(adapter)
    session.reset()
    results = adapter.fetch_statuses(running)
    assert session.actions == ["active_order"]
    assert [r.external_id for r in results] == running
    assert [r.status for r in results] == [Status.PROCESSING, Status.PENDING, Status.PENDING]
    assert results[0].otp_code and not results[1].otp_code

    session.reset()
    results = adapter.fetch_statuses([*running, canceled, done, "424242"])
    # one active_order, then `status` only for the ids that left the list
    assert session.actions == ["active_order", "status", "status", "status"]
    assert [call.params.get("id") for call in session.calls[1:]] == [canceled, done, "424242"]
    by_id = {r.external_id: r for r in results}
    assert by_id[canceled].status is Status.CANCELED and by_id[done].status is Status.COMPLETED
    assert by_id["424242"].found is False and by_id["424242"].status is Status.UNKNOWN
    assert by_id["424242"].error == "Pesanan tidak ditemukan"


# --- SMM v2 -------------------------------------------------------------------------------------------
def test_smm_catalogue_and_balance(make_account, connect):
    adapter = connect(make_account("smm_v2"))
    services = adapter.fetch_services()
    raw = smm_services()
    assert [s.external_id for s in services] == [s["service"] for s in raw]
    assert all(isinstance(s.cost, Decimal) and s.kind is ProductKind.SMM for s in services)
    with_cents = next(s for s in raw if s["rate"].endswith(".5"))
    item = next(s for s in services if s.external_id == with_cents["service"])
    assert item.cost == Decimal(with_cents["rate"]) and item.cost != item.cost.to_integral_value()
    assert (item.min_qty, item.max_qty) == (int(with_cents["min"]), int(with_cents["max"]))
    assert any(not s.external_id.isdigit() for s in services)  # hex ids survive as text
    assert any(s.can_refill for s in services) and any(s.can_cancel for s in services)
    balance = adapter.fetch_balance()
    assert balance.amount == START_BALANCE and balance.currency == "IDR"


def test_smm_order_moves_pending_in_progress_completed_then_refill(make_account, connect):
    account = make_account("smm_v2", smm_step_seconds=15)
    adapter = connect(account, options={"extended": False})  # documented actions only: single `status`
    service = smm_service(refill=True)
    placed = adapter.place_order(smm_request(service, qty=1000))
    assert placed.external_id.isdigit() and placed.status is Status.PENDING
    charge = Decimal(service["rate"])  # 1000 units = the rate per 1000
    assert adapter.fetch_balance().amount == START_BALANCE - charge

    session = session_of(adapter)
    session.reset()
    [pending] = adapter.fetch_statuses([placed.external_id])
    assert [(c.action, c.form.get("order"), "orders" in c.form) for c in session.calls] == [
        ("status", placed.external_id, False)
    ]
    assert (pending.status, pending.raw_status, pending.remains, pending.start_count) == (
        Status.PENDING,
        "Pending",
        1000,
        0,
    )
    assert pending.charge == charge
    [unknown] = adapter.fetch_statuses(["1"])
    assert (unknown.found, unknown.status, unknown.error) == (False, Status.UNKNOWN, "Incorrect order ID")
    with pytest.raises(ProviderRejected, match="Order is not completed yet"):
        connect(account).refill(placed.external_id)

    rewind(15, account=account)
    [running] = adapter.fetch_statuses([placed.external_id])
    assert (running.status, running.raw_status) == (Status.PROCESSING, "In progress")
    assert running.start_count and running.start_count > 0
    assert running.remains is not None and 900 < running.remains <= 1000  # falls linearly with time

    rewind(15, account=account)
    [completed] = adapter.fetch_statuses([placed.external_id])
    assert (completed.status, completed.raw_status, completed.remains) == (Status.COMPLETED, "Completed", 0)
    assert completed.charge == charge

    extended = connect(account)
    refill = extended.refill(placed.external_id)
    assert refill.refill_id.isdigit()
    assert extended.refill_status(refill.refill_id).status == "Pending"
    rewind_refills(15, order__account=account)
    assert extended.refill_status(refill.refill_id).status == "In progress"
    rewind_refills(15, order__account=account)
    assert extended.refill_status(refill.refill_id).status == "Completed"
    with pytest.raises(ProviderRejected, match="Incorrect refill ID"):
        extended.refill_status("999999")
    with pytest.raises(ProviderRejected, match="Incorrect order ID"):
        extended.refill("1")


def test_smm_multi_status_partial_and_cancel(make_account, connect):
    account = make_account("smm_v2", smm_step_seconds=15)
    adapter = connect(account)
    plain = adapter.place_order(smm_request(smm_service(cancel=False), qty=1000)).external_id
    partial = adapter.place_order(smm_request(smm_service(cancel=False), "https://x.com/partial", 999)).external_id
    cancelable_service = smm_service(cancel=True)
    cancelable = adapter.place_order(smm_request(cancelable_service, qty=1000)).external_id

    assert adapter.cancel(cancelable).ok
    with pytest.raises(ProviderRejected, match="Order can not be canceled"):
        adapter.cancel(cancelable)
    with pytest.raises(ProviderRejected, match="Cancel is not available for this service"):
        adapter.cancel(plain)
    with pytest.raises(ProviderRejected, match="Incorrect order ID"):
        adapter.cancel("1")

    session = session_of(adapter)
    session.reset()
    results = adapter.fetch_statuses([plain, partial, cancelable, "1"])
    assert [(c.action, c.form.get("orders")) for c in session.calls] == [
        ("status", f"{plain},{partial},{cancelable},1")
    ]
    by_id = {r.external_id: r for r in results}
    assert by_id[plain].status is Status.PENDING and by_id[partial].status is Status.PENDING
    assert (by_id[cancelable].status, by_id[cancelable].raw_status, by_id[cancelable].remains) == (
        Status.CANCELED,
        "Canceled",
        1000,
    )
    assert by_id["1"].found is False and by_id["1"].error == "Incorrect order ID"

    rewind(30, account=account)
    by_id = {r.external_id: r for r in adapter.fetch_statuses([plain, partial])}
    assert (by_id[plain].status, by_id[plain].remains) == (Status.COMPLETED, 0)
    assert (by_id[partial].status, by_id[partial].raw_status, by_id[partial].remains) == (
        Status.PARTIAL,
        "Partial",
        999 // 3,
    )
    # Refunds: the canceled order entirely, the partial one for what was not delivered.
    rate = {o.external_id: o.cost for o in orders_of(account)}
    partial_rate = Decimal(smm_service(cancel=False)["rate"])
    refund = (partial_rate * 333 / 1000).quantize(Decimal("0.01"))
    expected = START_BALANCE - rate[plain] - rate[partial] + refund
    assert adapter.fetch_balance().amount == expected


def test_smm_vendor_refusals(make_account, connect):
    adapter = connect(make_account("smm_v2", balance=Decimal("1")))
    service = smm_service()
    cases = [
        (smm_request(service, qty=1), f"Quantity less than minimal {service['min']}"),
        (smm_request(service, qty=int(service["max"]) + 1), f"Quantity more than maximal {service['max']}"),
        (OrderRequest(kind=ProductKind.SMM, service_id="nope", link="https://x", quantity=100), "Incorrect service ID"),
        (smm_request(service, link="not a link"), "Incorrect link"),
        (smm_request(service), "Not enough funds on balance"),
    ]
    for request, text in cases:
        with pytest.raises(ProviderRejected) as caught:
            adapter.place_order(request)
        assert caught.value.message == text


# --- Osimesa ------------------------------------------------------------------------------------------
def test_osimesa_catalogue_with_cutoff_and_stock(make_account, connect):
    services = connect(make_account("osimesa")).fetch_services()
    raw = osimesa_products()
    assert [s.external_id for s in services] == [p["code"] for p in raw]
    assert all(isinstance(s.cost, Decimal) and s.kind is ProductKind.PREPAID for s in services)
    assert services[0].cost == Decimal(raw[0]["price"]["current"])
    windowed = next(i for i, p in enumerate(raw) if p["cutoff"]["start"] != p["cutoff"]["end"])
    start, end = (time.fromisoformat(raw[windowed]["cutoff"][k]) for k in ("start", "end"))
    assert (services[windowed].cutoff_start, services[windowed].cutoff_end) == (start, end)
    assert services[0].cutoff_start is None and services[0].cutoff_end is None  # 00:00-00:00: no window
    empty = next(i for i, p in enumerate(raw) if p["status"] == "empty")
    assert services[empty].in_stock is False and services[0].in_stock is True
    assert "pulsa-reguler" in services[0].category
    with pytest.raises(ProviderNotSupported):
        connect(make_account("osimesa")).fetch_balance()  # the protocol has no balance action


def test_osimesa_order_waits_then_succeeds_with_voucher(make_account, connect):
    account = make_account("osimesa", prepaid_delay_seconds=10)
    adapter = connect(account)
    product = prepaid_product()
    placed = adapter.place_order(prepaid_request("081234567890"))
    assert re.fullmatch(r"OSM\d+", placed.external_id)
    assert (placed.status, placed.raw_status, placed.voucher) == (Status.PENDING, "waiting", "")
    assert placed.charge == Decimal(product["price"]["current"])

    [waiting] = adapter.fetch_statuses([placed.external_id])
    assert (waiting.status, waiting.raw_status, waiting.voucher) == (Status.PENDING, "waiting", "")
    assert waiting.number == "081234567890" and waiting.service_id == product["code"]
    assert waiting.created_at is not None

    rewind(10, account=account)
    [done] = adapter.fetch_statuses([placed.external_id])
    assert (done.status, done.raw_status) == (Status.COMPLETED, "success")
    assert re.fullmatch(r"\d{16}", done.voucher)
    assert balance_of(account) == START_BALANCE - placed.charge


def test_osimesa_target_ending_99_fails_and_is_refunded(make_account, connect):
    account = make_account("osimesa", prepaid_delay_seconds=10)
    adapter = connect(account)
    placed = adapter.place_order(prepaid_request("081234567899"))
    assert balance_of(account) == START_BALANCE - placed.charge
    rewind(10, account=account)
    [failed] = adapter.fetch_statuses([placed.external_id])
    assert (failed.status, failed.raw_status, failed.voucher) == (Status.FAILED, "failed", "")
    assert balance_of(account) == START_BALANCE
    [unknown] = adapter.fetch_statuses(["OSM999999"])
    assert (unknown.found, unknown.status, unknown.error) == (False, Status.UNKNOWN, "Transaction not found.")


def test_osimesa_vendor_refusals(make_account, connect):
    adapter = connect(make_account("osimesa", balance=Decimal("10")))
    empty = next(p for p in osimesa_products() if p["status"] == "empty")
    cases = [
        (OrderRequest(kind=ProductKind.PREPAID, service_id="NOPE", target="0812345678"), "Product not found."),
        (
            OrderRequest(kind=ProductKind.PREPAID, service_id=empty["code"], target="0812345678"),
            "Product is out of stock.",
        ),
        (prepaid_request("123"), "Invalid destination number."),
        (prepaid_request(), "Insufficient balance."),
    ]
    for request, text in cases:
        with pytest.raises(ProviderRejected) as caught:
            adapter.place_order(request)
        assert (caught.value.message, caught.value.http_status) == (text, 400)


def test_osimesa_lost_reply_is_found_by_recent_orders(make_account, connect):
    account = make_account(
        "osimesa", fault=Fault.LOSE_REPLY, fault_scope=FaultScope.ORDER, fault_delay_seconds=FAULT_DELAY
    )
    adapter = connect(account, read_timeout=FAST_TIMEOUT)
    request = prepaid_request("081298765432")
    with pytest.raises(ProviderOutcomeUnknown) as caught:
        adapter.place_order(request)
    assert may_have_happened(caught.value)
    [upstream] = orders_of(account)
    recent = adapter.recent_orders()  # status scope is not faulted
    match = [r for r in recent if r.number == request.target and r.service_id == request.service_id]
    assert [r.external_id for r in match] == [upstream.external_id]
    assert match[0].status is Status.PENDING


# --- RajaSMS ------------------------------------------------------------------------------------------
def test_rajasms_send_mixed_numbers_and_delivery_callbacks(make_account, connect, callbacks):
    account = make_account("rajasms", dlr_delay_seconds=0)
    callback_url, received = callbacks
    adapter = connect(account, callback_url=callback_url)
    placed = adapter.place_order(sms_request("081234567890", "+6281234567894", "12345", "021555"))
    good, bad_handset, invalid, landline = placed.recipients
    assert [r.state for r in placed.recipients] == [
        DeliveryState.QUEUED,
        DeliveryState.QUEUED,
        DeliveryState.REJECTED,
        DeliveryState.REJECTED,
    ]
    assert good.external_id.isdigit() and bad_handset.external_id.isdigit()
    assert (invalid.code, invalid.text, invalid.external_id, invalid.price) == ("60", "Invalid Number", "", 0)
    assert landline.code == "60"
    assert good.price == Decimal(70) and placed.charge == Decimal(140)
    assert placed.external_id == good.external_id and placed.status is Status.PROCESSING
    assert balance_of(account) == START_BALANCE - 140

    [call] = session_of(adapter).calls
    assert call.path.endswith("/sms/api_sms_reguler_send_json.php") and call.json["callbackurl"] == callback_url

    bodies = [received.get(timeout=10), received.get(timeout=10)]
    assert wait_for(lambda: all(o.dlr_state == DlrState.SENT for o in orders_of(account)), seconds=30)
    reports = {}
    for hit in bodies:
        assert hit.method == "POST" and "json" in hit.content_type
        [report] = adapter.parse_callback(hit.method, hit.query, hit.body, hit.content_type)
        reports[report.external_id] = report
    assert set(reports) == {good.external_id, bad_handset.external_id}
    delivered, failed = reports[good.external_id], reports[bad_handset.external_id]
    assert (delivered.state, delivered.code, delivered.text, delivered.number) == (
        DeliveryState.DELIVERED,
        "3",
        "Delivered Success",
        "6281234567890",
    )
    assert (failed.state, failed.code, failed.text) == (DeliveryState.FAILED, "4", "Delivered Error")


def test_rajasms_all_rejected_and_balance_per_route(make_account, connect):
    account = make_account("rajasms")
    adapter = connect(account)
    with pytest.raises(ProviderRejected) as caught:
        adapter.place_order(sms_request("12345", "0211234"))
    assert "Invalid Number (60)" in caught.value.message
    with pytest.raises(ProviderRejected, match=r"Invalid Message \(70\)"):
        adapter.place_order(sms_request("081234567890", message=" "))
    assert not orders_of(account)

    adapter.place_order(sms_request("081234567890", route="otp"))  # 250 on the otp route
    expected = START_BALANCE - 250
    for route in ("reguler", "masking", "otp"):
        balance = connect(account, options={"route": route}).fetch_balance()
        assert balance.amount == expected and re.fullmatch(r"\d{4}-\d{2}-\d{2}", balance.expires)


def test_rajasms_schedule_is_sent_in_wib_and_delays_the_report(make_account, connect):
    account = make_account("rajasms", dlr_delay_seconds=5)
    adapter = connect(account)
    when = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)  # aware, UTC
    request = OrderRequest(
        kind=ProductKind.SMS, service_id="masking", message="Promo", recipients=("6281234567890",), schedule=when
    )
    placed = adapter.place_order(request)
    assert placed.recipients[0].state is DeliveryState.QUEUED and placed.charge == Decimal(150)
    [call] = session_of(adapter).calls
    assert call.json["datapacket"][0]["sendingdatetime"] == when.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")
    [order] = orders_of(account)
    assert order.dlr_at == when + timedelta(seconds=5)  # the sandbox read the time as WIB, like the adapter


def test_rajasms_minimum_balance_rejects_per_packet(make_account, connect):
    account = make_account("rajasms", balance=Decimal("100"))
    placed = connect(account).place_order(sms_request("081234567890", "081234567891"))
    assert [(r.state, r.code) for r in placed.recipients] == [
        (DeliveryState.QUEUED, "10"),
        (DeliveryState.REJECTED, "80"),
    ]
    assert placed.recipients[1].text == "Minimum Balance"


# --- masking HTTP -------------------------------------------------------------------------------------
def test_masking_send_get_and_post_and_report_poll(make_account, connect):
    account = make_account("masking_http", dlr_delay_seconds=30)
    get_adapter_ = connect(account)
    post_adapter = connect(account, options={"method": "post"})
    by_get = get_adapter_.place_order(sms_request("6281234567890", "6281234567894"))
    by_post = post_adapter.place_order(sms_request("6281234567895"))
    assert [c.method + " " + c.action for c in session_of(get_adapter_).calls] == ["GET send.php"] * 2
    assert [c.method + " " + c.action for c in session_of(post_adapter).calls] == ["POST send_post.php"]
    delivered_id, failed_id = (r.external_id for r in by_get.recipients)
    no_charge_id = by_post.external_id
    assert all(x.isdigit() for x in (delivered_id, failed_id, no_charge_id))
    assert by_get.external_id == delivered_id and by_get.status is Status.PROCESSING
    assert [r.state for r in by_get.recipients] == [DeliveryState.QUEUED, DeliveryState.QUEUED]
    assert get_adapter_.fetch_balance().amount == START_BALANCE - 3 * 350

    ids = [delivered_id, failed_id, no_charge_id]
    before = get_adapter_.fetch_reports(ids)
    assert [(r.external_id, r.state, r.code) for r in before] == [(i, DeliveryState.SENT, "20") for i in ids]
    rewind(30, account=account)
    after = {r.external_id: r for r in get_adapter_.fetch_reports(ids)}
    assert (after[delivered_id].state, after[delivered_id].code) == (DeliveryState.DELIVERED, "22")
    assert (after[failed_id].state, after[failed_id].code) == (DeliveryState.FAILED, "50")
    assert (after[no_charge_id].state, after[no_charge_id].code) == (DeliveryState.REJECTED, "52")
    assert get_adapter_.fetch_balance().amount == START_BALANCE - 2 * 350  # No Charge came back
    assert get_adapter_.fetch_reports(["1"]) == []  # "Data tidak ditemukan" is skipped, not fatal


def test_masking_refusals_download_report_and_inbox(make_account, connect):
    account = make_account("masking_http", dlr_delay_seconds=30)
    adapter = connect(account)
    for request, text in [
        (sms_request("0812"), "Nomor tujuan tidak valid"),
        (sms_request("6281234567890", message=" "), "Pesan tidak boleh kosong"),
    ]:
        with pytest.raises(ProviderRejected) as caught:
            adapter.place_order(request)
        assert caught.value.message == text
    placed = adapter.place_order(sms_request("6281234567897", "12", message="x" * 161))  # two SMS
    first, second = placed.recipients
    assert first.state is DeliveryState.QUEUED
    assert (second.state, second.text) == (DeliveryState.REJECTED, "Nomor tujuan tidak valid")
    assert adapter.fetch_balance().amount == START_BALANCE - 700

    today = timezone.localtime(timezone.now(), WIB).date()
    report = adapter.download_report(today, today)
    lines = report.strip().splitlines()
    assert lines[0] == "id,tanggal,msisdn,pesan,jumlah_sms,status,keterangan"
    assert lines[1].startswith(f"{first.external_id},") and lines[1].endswith(",2,20,Pending")

    assert adapter.inbox().strip() == "id,tanggal,pengirim,pesan"
    rewind(120, account=account)  # delivered, and answered a minute later
    assert adapter.download_report(today, today).strip().splitlines()[1].endswith(",22,Delivered")
    inbox = adapter.inbox().strip().splitlines()
    assert len(inbox) == 2 and inbox[1].startswith(f"{first.external_id},") and inbox[1].endswith(",6281234567897,YA")


def test_masking_delivery_callback_is_parsed_by_the_adapter(make_account, connect, callbacks):
    callback_url, received = callbacks
    account = make_account("masking_http", dlr_delay_seconds=0, callback_url=callback_url)
    adapter = connect(account)
    placed = adapter.place_order(sms_request("6281234567890", "6281234567895"))
    hits = [received.get(timeout=10), received.get(timeout=10)]
    assert wait_for(lambda: all(o.dlr_state == DlrState.SENT for o in orders_of(account)), seconds=30)
    reports = {}
    for hit in hits:
        assert hit.method == "GET" and hit.body == b""
        [report] = adapter.parse_callback(hit.method, hit.query, hit.body)
        reports[report.external_id] = report
    delivered_id, no_charge_id = (r.external_id for r in placed.recipients)
    assert (reports[delivered_id].state, reports[delivered_id].code, reports[delivered_id].text) == (
        DeliveryState.DELIVERED,
        "22",
        "Delivered",
    )
    assert reports[delivered_id].number == "6281234567890"
    assert (reports[no_charge_id].state, reports[no_charge_id].code, reports[no_charge_id].text) == (
        DeliveryState.REJECTED,
        "52",
        "No Charge",
    )


# --- faults ---------------------------------------------------------------------------------------------
# What each fault does to a placement: the error class, and whether the order exists upstream.
# The two that sleep come first, so the sandbox's sleep overlaps the rest of the test.
FAULT_OUTCOMES: dict[str, tuple[type[Exception], bool]] = {
    Fault.TIMEOUT: (ProviderOutcomeUnknown, False),
    Fault.LOSE_REPLY: (ProviderOutcomeUnknown, True),
    Fault.HTML502: (ProviderBadResponse, False),
    Fault.INVALID_JSON: (ProviderBadResponse, True),
    Fault.EMPTY: (ProviderBadResponse, True),
    Fault.WRONG_TYPES: (ProviderBadResponse, True),
}


@pytest.mark.parametrize("kind", list(PLACEMENTS))
def test_every_fault_on_placement(kind, make_account, connect):
    """Each fault type on the placement of each kind: the error class says whether the order may
    exist, and the sandbox agrees (timeout and html502 act before anything happens)."""
    for fault, (error, happened) in FAULT_OUTCOMES.items():
        account = make_account(kind, fault=fault, fault_scope=FaultScope.ORDER, fault_delay_seconds=FAULT_DELAY)
        adapter = connect(account, read_timeout=FAST_TIMEOUT)
        exc = raised(lambda adapter=adapter: adapter.place_order(PLACEMENTS[kind]()))
        assert type(exc) is error, (fault, exc)
        assert may_have_happened(exc), fault
        if fault == Fault.HTML502:
            assert exc.http_status == 502
        assert len(orders_of(account)) == (1 if happened else 0), fault


# Faults on actions other than placement (scope "all"): (kind, fault, call, error).
OTHER_ACTION_FAULTS: list[tuple[str, str, Callable[[ProviderAdapter], Any], type[Exception]]] = [
    ("virtusim", Fault.INVALID_JSON, lambda a: a.fetch_services(), ProviderBadResponse),
    ("virtusim", Fault.WRONG_TYPES, lambda a: a.fetch_statuses(["9001"]), ProviderBadResponse),
    ("virtusim", Fault.EMPTY, lambda a: a.cancel("9001"), ProviderBadResponse),
    ("smm_v2", Fault.WRONG_TYPES, lambda a: a.fetch_balance(), ProviderBadResponse),
    ("smm_v2", Fault.EMPTY, lambda a: a.fetch_statuses(["100001"]), ProviderBadResponse),
    ("smm_v2", Fault.LOSE_REPLY, lambda a: a.fetch_services(), ProviderOutcomeUnknown),
    ("osimesa", Fault.TIMEOUT, lambda a: a.fetch_services(), ProviderOutcomeUnknown),
    ("osimesa", Fault.HTML502, lambda a: a.recent_orders(), ProviderBadResponse),
    ("rajasms", Fault.WRONG_TYPES, lambda a: a.fetch_balance(), ProviderBadResponse),
    ("rajasms", Fault.INVALID_JSON, lambda a: a.fetch_balance(), ProviderBadResponse),
    ("masking_http", Fault.EMPTY, lambda a: a.fetch_balance(), ProviderBadResponse),
    ("masking_http", Fault.HTML502, lambda a: a.inbox(), ProviderBadResponse),
    ("masking_http", Fault.INVALID_JSON, lambda a: a.fetch_reports(["18319001"]), ProviderBadResponse),
    ("masking_http", Fault.WRONG_TYPES, lambda a: a.download_report(date(2024, 1, 1), date(2024, 1, 2)), None),
]


def test_faults_on_other_actions(make_account, connect):
    for kind, fault, call, error in OTHER_ACTION_FAULTS:
        account = make_account(kind, fault=fault, fault_delay_seconds=FAULT_DELAY)
        if kind == "masking_http":  # report.php needs an existing report id
            SandboxOrder.objects.create(account=account, external_id="18319001", outcome="22")
        adapter = connect(account, read_timeout=FAST_TIMEOUT)
        if error is None:  # a plain-text download passes the body on as it is
            assert call(adapter)
            continue
        exc = raised(lambda adapter=adapter, call=call: call(adapter))
        assert type(exc) is error, (kind, fault, exc)


def test_connection_refused_is_unavailable(make_account, connect):
    root = f"http://127.0.0.1:{closed_port()}"
    for kind, request in PLACEMENTS.items():
        account = make_account(kind)
        adapter = connect(account, base_url=sandbox_base_url(kind, root))
        exc = raised(lambda adapter=adapter, request=request: adapter.place_order(request()))
        assert isinstance(exc, ProviderUnavailable), (kind, exc)
        assert not may_have_happened(exc)
        assert "refused" in exc.message.lower(), exc.message
        assert account.api_key not in str(exc) and account.password not in str(exc)


STATUS_CALLS: dict[str, Callable[[ProviderAdapter, str], Any]] = {
    "virtusim": lambda a, ext_id: a.fetch_statuses([ext_id]),
    "smm_v2": lambda a, ext_id: a.fetch_statuses([ext_id]),
    "osimesa": lambda a, ext_id: a.fetch_statuses([ext_id]),
    "masking_http": lambda a, ext_id: a.fetch_reports([ext_id]),
}


@pytest.mark.parametrize("kind", list(STATUS_CALLS))
def test_fault_scope_status_breaks_only_status_calls(kind, make_account, connect):
    account = make_account(kind, fault=Fault.HTML502, fault_scope=FaultScope.STATUS)
    adapter = connect(account)
    placed = adapter.place_order(PLACEMENTS[kind]())  # placement works
    assert placed.external_id and len(orders_of(account)) == 1
    with pytest.raises(ProviderBadResponse) as caught:
        STATUS_CALLS[kind](adapter, placed.external_id)
    assert caught.value.http_status == 502
    # Everything else still works.
    if kind == "virtusim":
        assert adapter.fetch_services() and adapter.cancel(placed.external_id).ok
    elif kind == "smm_v2":
        assert adapter.fetch_services() and adapter.fetch_balance().amount < START_BALANCE
    elif kind == "osimesa":
        assert adapter.fetch_services()
        with pytest.raises(ProviderBadResponse):
            adapter.recent_orders()
    else:
        assert adapter.fetch_balance().amount == START_BALANCE - 350 and adapter.inbox()


def test_fault_scope_order_breaks_only_placement(make_account, connect):
    account = make_account("smm_v2", fault=Fault.HTML502, fault_scope=FaultScope.ORDER)
    adapter = connect(account)
    with pytest.raises(ProviderBadResponse):
        adapter.place_order(smm_request())
    assert adapter.fetch_services() and adapter.fetch_balance().amount == START_BALANCE
    account.fault = Fault.NONE
    account.save(update_fields=["fault"])
    ext_id = adapter.place_order(smm_request()).external_id
    account.fault = Fault.HTML502
    account.save(update_fields=["fault"])
    assert adapter.fetch_statuses([ext_id])[0].status is Status.PENDING


def test_lost_virtusim_reply_shows_up_in_active_orders(make_account, connect):
    account = make_account(
        "virtusim", fault=Fault.LOSE_REPLY, fault_scope=FaultScope.ORDER, fault_delay_seconds=FAULT_DELAY
    )
    adapter = connect(account, read_timeout=FAST_TIMEOUT)
    with pytest.raises(ProviderOutcomeUnknown):
        adapter.place_order(otp_request())
    [upstream] = orders_of(account)
    [recent] = adapter.recent_orders()
    assert (recent.external_id, recent.number, recent.status) == (upstream.external_id, upstream.target, Status.PENDING)
