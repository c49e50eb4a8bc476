"""SMS masking over plain HTTP (provider-docs 003): send.php, send_post.php, report.php,
balance.php, reports_post.php, inbox.php. Replies are plain text, as the vendor's PHP prints them.

Outcomes by the destination number's last digit (`masking_outcome`), reached `dlr_delay_seconds`
after the send; until then `report.php` says `20` (pending) and no DLR is sent:

| last digit | DLR `error_code` / `error_message`  | `report.php`       | balance cut? |
|------------|-------------------------------------|--------------------|--------------|
| 4          | 50 Insufficient Credit Balance      | `50 Saldo Habis`   | no (refunded at the DLR time) |
| 6          | 51 Expiration Period                | `50 Periode Habis` | no (refunded at the DLR time) |
| 5          | 52 No Charge                        | `50 No Charge`     | no (refunded at the DLR time) |
| other      | 22 Delivered                        | `22`               | yes |

report.php answers 50 for all three failures, with the reason after the code (the document's
"Response code ini akan memiliki keterangan"); the DLR names each with its own code. A delivered SMS
to a number ending in 7 is answered "YA" in inbox.php a minute later.
"""

from __future__ import annotations

import csv
import io
import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from .. import dlr
from ..common import WIB, amount, params, sandbox_endpoint, text_reply
from ..faults import Scope, with_fault
from ..models import DlrState, SandboxAccount, SandboxOrder
from ..services import place_order, settle
from . import DeliveryReport, SandboxProtocol, register

KIND = "masking_http"
PRICE_PER_SMS = Decimal(350)
SMS_LENGTH = 160
BAD_LOGIN = "Username atau Password salah"
INBOX_REPLY_AFTER = timedelta(minutes=1)
_HP = re.compile(r"^62\d{8,13}$")


def _login(p: dict[str, str]) -> SandboxAccount | None:
    username, password = p.get("username", ""), p.get("password", "")
    if not username or not password:
        return None
    return SandboxAccount.objects.filter(kind=KIND, username=username, password=password).first()


def _logged_in(
    request: HttpRequest,
    scope: Scope,
    action: Callable[[SandboxAccount, dict[str, str], datetime], HttpResponse],
) -> HttpResponse:
    p = params(request)
    account = _login(p)
    if account is None:
        return text_reply(BAD_LOGIN)
    now = timezone.now()
    settle(account, now)
    dlr.sweep(account, now)
    return with_fault(account, scope, lambda: action(account, p, now))


def _send(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    hp, message = p.get("hp", "").strip(), p.get("message", "")
    if not _HP.match(hp):
        return text_reply("Nomor tujuan tidak valid")
    if not message.strip():
        return text_reply("Pesan tidak boleh kosong")
    cost = PRICE_PER_SMS * math.ceil(len(message) / SMS_LENGTH)
    outcome = masking_outcome(hp)
    dlr_at = now + timedelta(seconds=account.dlr_delay_seconds)
    order = place_order(
        account,
        cost,
        created_at=now,
        service_name="SMS masking",
        target=hp,
        message=message,
        outcome=outcome,
        refund=cost if outcome in NOT_CHARGED else Decimal(0),  # the balance is not cut
        final_at=dlr_at,
        dlr_at=dlr_at,
        callback_url=account.callback_url,
        dlr_state=DlrState.PENDING if account.callback_url else DlrState.NONE,
    )
    if order is None:
        return text_reply("Saldo tidak cukup")
    if account.callback_url:
        dlr.schedule(order.pk, dlr_at)
    return text_reply(order.external_id)


def _balance(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    return text_reply(amount(account.balance))


def _date(raw: str) -> datetime | None:
    try:
        return datetime.strptime(raw.strip(), "%d-%m-%Y").replace(tzinfo=WIB)
    except ValueError:
        return None


def _csv(rows: list[list[str]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    response = text_reply(buffer.getvalue(), content_type="text/csv; charset=UTF-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _reports(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    start, end = _date(p.get("start", "")), _date(p.get("end", ""))
    if start is None or end is None or end < start:
        return text_reply("Format tanggal salah")
    orders = account.orders.filter(created_at__gte=start, created_at__lt=end + timedelta(days=1))
    rows = [["id", "tanggal", "msisdn", "pesan", "jumlah_sms", "status", "keterangan"]]
    for order in orders.order_by("created_at", "pk"):
        code = masking_code(order, now)
        sent = timezone.localtime(order.created_at, WIB).strftime("%d-%m-%Y %H:%M:%S")
        parts = str(math.ceil(len(order.message) / SMS_LENGTH))
        text = MASKING_DLR_TEXT[code]
        rows.append([order.external_id, sent, order.target, order.message, parts, code, text])
    return _csv(rows, f"report_{p['start'].strip()}_{p['end'].strip()}.csv")


def _inbox(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    """Replies from the handsets: a delivered SMS to a number ending in 7 is answered "YA" a minute later."""
    rows = [["id", "tanggal", "pengirim", "pesan"]]
    delivered = account.orders.filter(outcome="22", target__endswith="7", dlr_at__lte=now - INBOX_REPLY_AFTER)
    for order in delivered.order_by("dlr_at", "pk"):
        replied = (order.dlr_at or now) + INBOX_REPLY_AFTER
        at = timezone.localtime(replied, WIB).strftime("%d-%m-%Y %H:%M:%S")
        rows.append([order.external_id, at, order.target, "YA"])
    return _csv(rows, "inbox.csv")


@sandbox_endpoint
def send(request: HttpRequest) -> HttpResponse:
    return _logged_in(request, Scope.ORDER, _send)


@sandbox_endpoint
def balance(request: HttpRequest) -> HttpResponse:
    return _logged_in(request, Scope.OTHER, _balance)


@sandbox_endpoint
def reports_post(request: HttpRequest) -> HttpResponse:
    return _logged_in(request, Scope.STATUS, _reports)


@sandbox_endpoint
def inbox(request: HttpRequest) -> HttpResponse:
    return _logged_in(request, Scope.OTHER, _inbox)


@sandbox_endpoint
def report(request: HttpRequest) -> HttpResponse:
    """`report.php?rpt=<id>`: the current code. Report ids are global, so no login is needed; a
    login that is given must own the report."""
    p = params(request)
    rpt = p.get("rpt", "").strip()
    order = (
        SandboxOrder.objects.select_related("account").filter(account__kind=KIND, external_id=rpt).first()
        if rpt
        else None
    )
    if order is None:
        return text_reply("Data tidak ditemukan")
    if p.get("username") and _login(p) != order.account:
        return text_reply(BAD_LOGIN)
    account, now = order.account, timezone.now()
    settle(account, now)
    dlr.sweep(account, now)
    return with_fault(account, Scope.STATUS, lambda: text_reply(report_reply(masking_code(order, now))))


# --- catalogue and rules ------------------------------------------------------------


# The DLR's `error_message` per `error_code` (51 as in the document's example dump).
MASKING_DLR_TEXT = {
    "22": "Delivered",
    "20": "Pending",
    "50": "Insufficient Credit Balance",
    "51": "Expiration Period",
    "52": "No Charge",
}
# What report.php prints for each failure: code 50 and the reason.
REPORT_50_TEXT = {"50": "Saldo Habis", "51": "Periode Habis", "52": "No Charge"}
NOT_CHARGED = frozenset(REPORT_50_TEXT)  # none of the failures cuts the balance
OUTCOME_BY_LAST_DIGIT = {"4": "50", "6": "51", "5": "52"}


def masking_outcome(number: str) -> str:
    """The DLR code an SMS to `number` ends with (module docstring)."""
    return OUTCOME_BY_LAST_DIGIT.get(number[-1:], "22")


def report_reply(code: str) -> str:
    """report.php's text for a DLR code: 22 and 20 as they are, every failure as `50 <reason>`."""
    return f"50 {REPORT_50_TEXT[code]}" if code in REPORT_50_TEXT else code


def masking_code(order: SandboxOrder, now: datetime) -> str:
    """What `report.php` shows: 20 (pending) until the DLR time, then the outcome."""
    return order.outcome if order.dlr_at is not None and order.dlr_at <= now else "20"


def delivery_report(order: SandboxOrder) -> DeliveryReport:
    """GET with a query string to the URL registered with the gateway (the account's `callback_url`)."""
    payload = {
        "session_id": order.external_id,
        "error_code": order.outcome,
        "error_message": MASKING_DLR_TEXT[order.outcome],
        "msisdn": order.target,
    }
    return DeliveryReport("GET", payload)


def demo_credentials() -> dict[str, str]:
    return {"username": f"demo{secrets.token_hex(4)}", "password": secrets.token_urlsafe(12)}


PROTOCOL = register(
    SandboxProtocol(
        kind=KIND,
        title="SMS masking (HTTP)",
        base_path="masking_http",
        urls=[
            path("masking_http/send.php", send, name="masking_send"),
            path("masking_http/send_post.php", send, name="masking_send_post"),
            path("masking_http/report.php", report, name="masking_report"),
            path("masking_http/balance.php", balance, name="masking_balance"),
            path("masking_http/reports_post.php", reports_post, name="masking_reports_post"),
            path("masking_http/inbox.php", inbox, name="masking_inbox"),
        ],
        external_id=lambda pk: str(18319000 + pk),
        demo_provider="Sandbox Masking",
        demo_balance=Decimal("250000"),
        wrong_types={"status": "ok", "id": "oops"},
        demo_credentials=demo_credentials,
        delivery_report=delivery_report,
        registered_callback=True,
    )
)
