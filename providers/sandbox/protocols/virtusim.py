"""VirtuSIM `json.php` (provider-docs 000): services, order, set_status, active_order, status.

Only the document's words go out. Statuses: `status&id=` says Pending, Processing (code in), Error or
Success; `active_order` says Pending, Ready (after set_status 1) or Otp Diterima. Deterministic triggers:
- `API Key salah`: a wrong key. `Permintaan tidak sesuai`: an unknown action, an order without `service`
  or with an operator other than telkomsel / indosat / axis / any, a set_status without `id` or with a
  code other than 1-4. `Layanan tidak ditemukan`: an unknown service id. `Layanan tidak tersedia`: a
  service whose `tersedia` is "0" (every 13th of the catalogue). `Saldo tidak cukup`: the account's
  balance is below the price. `Jumlah pesan tidak sesuai`: the account already holds MAX_OPEN_NUMBERS
  open numbers. `Pesanan tidak ditemukan`: an unknown order id (status, set_status).
- The code arrives `otp_delay_seconds` after the order (< 0: never); set_status 1 turns Pending into
  Ready; 3 asks for another code (`Gagal Resend` before the first one); 4 closes it as Success; 2 closes
  an order without a code as Error, refunded (`Gagal Cancel` once a code is in).
- `Error`: a number canceled (set_status 2) or left OTP_EXPIRY without a code is closed as Error and
  refunded; with a code it closes as Success. The document lists no "Cancel" status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from ..common import account_by_key, catalogue_size, find, json_reply, params, sandbox_endpoint, stable_hash
from ..faults import Scope, with_fault
from ..models import SandboxAccount, SandboxOrder
from ..services import close_order, place_order, settle
from . import SandboxProtocol, register

KIND = "virtusim"
OPERATORS = {"telkomsel": "62812", "indosat": "62856", "axis": "62838"}
SET_STATUS_LABEL = {"1": "Ready", "2": "Cancel", "3": "Resend", "4": "Selesai"}


def _fail(msg: str) -> HttpResponse:
    return json_reply({"status": False, "data": {"msg": msg}})


def _order_data(order: SandboxOrder) -> dict[str, str]:
    return {"id": order.external_id, "number": order.target, "service_name": order.service_name}


def _services(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    return json_reply({"status": True, "data": virtusim_services(account.catalogue_size)})


def _order(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    operator = p.get("operator", "any").strip().lower() or "any"
    if not p.get("service") or (operator != "any" and operator not in OPERATORS):
        return _fail("Permintaan tidak sesuai")
    item = find(virtusim_services(account.catalogue_size), "id", p["service"])
    if item is None:
        return _fail("Layanan tidak ditemukan")
    if item["tersedia"] == "0":
        return _fail("Layanan tidak tersedia")
    if account.orders.filter(closed_status="").count() >= MAX_OPEN_NUMBERS:
        return _fail("Jumlah pesan tidak sesuai")
    delay = account.otp_delay_seconds
    order = place_order(
        account,
        Decimal(item["price"]),
        created_at=now,
        service_id=item["id"],
        service_name=item["name"],
        otp_at=now + timedelta(seconds=delay) if delay >= 0 else None,
    )
    if order is None:
        return _fail("Saldo tidak cukup")
    if operator == "any":
        operator = list(OPERATORS)[order.pk % len(OPERATORS)]
    order.operator = operator
    order.target = f"{OPERATORS[operator]}{(order.pk * 7919 + 1234567) % 10**8:08d}"
    order.save(update_fields=["operator", "target"])
    return json_reply(
        {"status": True, "data": {**_order_data(order), "operator": operator, "service_id": order.service_id}}
    )


def _set_status(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    code = p.get("status", "")
    if code not in SET_STATUS_LABEL or not p.get("id"):
        return _fail("Permintaan tidak sesuai")
    order = account.orders.filter(external_id=p["id"]).first()
    if order is None:
        missing = "Pesanan tidak ditemukan"
        return json_reply({"status": False, "msg": missing, "data": {"msg": missing}})
    view = otp_view(order, now)
    message = _apply_set_status(order, code, view, account, now)
    ok = message is not None
    return json_reply({"status": ok, "msg": message or f"Gagal {SET_STATUS_LABEL[code]}", "data": _order_data(order)})


def _apply_set_status(
    order: SandboxOrder, code: str, view: OtpView, account: SandboxAccount, now: datetime
) -> str | None:
    """The success message, or None when the vendor would refuse."""
    if not view.active:
        return None
    open_order = SandboxOrder.objects.filter(pk=order.pk, closed_status="")
    if code == "1":
        open_order.filter(ready_at__isnull=True).update(ready_at=now)
        return "Berhasil menunggu sms masuk"
    if code == "2":
        if view.sms or not close_order(order, CLOSED_WITHOUT_CODE, order.cost, now):
            return None  # a code was received: the number was used
        return "Berhasil membatalkan pesanan"
    if code == "3":
        if not view.sms:
            return None  # nothing to resend yet
        delay = account.otp_delay_seconds
        open_order.update(
            previous_sms=view.sms,
            resend_count=F("resend_count") + 1,
            otp_at=now + timedelta(seconds=delay) if delay >= 0 else None,
        )
        return "Berhasil meminta kirim ulang sms"
    return "Berhasil menyelesaikan pesanan" if close_order(order, "Success", Decimal(0), now) else None


def _active_order(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    data = []
    for order in account.orders.filter(closed_status="").order_by("created_at", "pk"):
        view = otp_view(order, now)
        data.append(
            {
                "id": order.external_id,
                "status": view.active_status,
                "number": order.target,
                "otp": view.sms or OTP_WAITING,
                "sms": view.sms,
                "service_name": order.service_name,
            }
        )
    return json_reply({"status": True, "data": data})


def _status(account: SandboxAccount, p: dict[str, str], now: datetime) -> HttpResponse:
    order = account.orders.filter(external_id=p.get("id", "")).first() if p.get("id") else None
    if order is None:
        return _fail("Pesanan tidak ditemukan")
    view = otp_view(order, now)
    return json_reply(
        {
            "status": True,
            "data": {
                "id": order.external_id,
                "status": view.status,
                "number": order.target,
                "sms": view.sms,
                "service_name": order.service_name,
            },
        }
    )


Handler = Callable[[SandboxAccount, dict[str, str], datetime], HttpResponse]
ACTIONS: dict[str, tuple[Handler, Scope]] = {
    "services": (_services, Scope.OTHER),
    "order": (_order, Scope.ORDER),
    "set_status": (_set_status, Scope.OTHER),
    "active_order": (_active_order, Scope.STATUS),
    "status": (_status, Scope.STATUS),
}


def expire_open_orders(account: SandboxAccount, now: datetime) -> None:
    """Numbers left open expire after OTP_EXPIRY: with a code -> Success, without -> Error + refund."""
    cutoff = now - OTP_EXPIRY
    for order in account.orders.filter(closed_status="", created_at__lte=cutoff):
        expired_at = order.created_at + OTP_EXPIRY
        if otp_view(order, expired_at).sms:
            close_order(order, "Success", Decimal(0), expired_at)
        else:
            close_order(order, CLOSED_WITHOUT_CODE, order.cost, expired_at)


@sandbox_endpoint
def endpoint(request: HttpRequest) -> HttpResponse:
    p = params(request)
    account = account_by_key(KIND, p.get("api_key", ""))
    if account is None:
        return _fail("API Key salah")
    now = timezone.now()
    expire_open_orders(account, now)
    settle(account, now)
    handler, scope = ACTIONS.get(p.get("action", ""), (None, Scope.OTHER))
    if handler is None:
        return _fail("Permintaan tidak sesuai")
    return with_fault(account, scope, lambda: handler(account, p, now))


# --- catalogue and rules ------------------------------------------------------------
OTP_WAITING = "Waiting SMS Code"
CLOSED_WITHOUT_CODE = "Error"  # canceled or expired with no code: refunded; the document has no Cancel status
MAX_OPEN_NUMBERS = 100  # numbers an account may hold at once; one more -> "Jumlah pesan tidak sesuai"
OTP_EXPIRY = timedelta(minutes=30)  # numbers left open close on their own (after the panel's 20 min)
VIRTUSIM_DEFAULT_SIZE = 40

_OTP_APPS = [
    "Twitter", "Lazada", "WhatsApp", "Telegram", "Shopee", "Tokopedia", "Gojek", "Grab", "Facebook",
    "Instagram", "Google", "TikTok", "Line", "WeChat", "Discord", "Bukalapak", "Blibli", "DANA", "OVO",
    "LinkAja", "Netflix", "Spotify", "Amazon", "Microsoft", "Yahoo", "Apple", "Snapchat", "Tinder",
    "Bumble", "Uber", "Steam", "PayPal", "Viber", "KakaoTalk", "Naver", "BitClout", "Zalo", "Akulaku",
    "Kredivo", "Anyother",
]  # fmt: skip


def virtusim_services(size: int = 0) -> list[dict[str, str]]:
    """`{"id", "name", "price", "tersedia", "category"}`, numbers as strings; every 13th out of stock."""
    items = []
    for i in range(catalogue_size(size, VIRTUSIM_DEFAULT_SIZE)):
        app = _OTP_APPS[i % len(_OTP_APPS)]
        server = i // len(_OTP_APPS)
        name = app if server == 0 else f"{app} Server {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[server % 26]}"
        seed = stable_hash("virtusim", i)
        stock = 0 if i % 13 == 12 else 500 + seed % 9000
        items.append(
            {
                "id": str(i + 1),
                "name": name,
                "price": str(500 + (seed % 31) * 50),
                "tersedia": str(stock),
                "category": "OTP",
            }
        )
    return items


def otp_sms(order_pk: int, attempt: int) -> str:
    """The SMS for attempt n (0 = first code, n = after n resends); the code is its first digit run."""
    code = (order_pk * 7919 + attempt * 104729 + 271828) % 900000 + 100000
    return (
        f" {code} adalah kode verifikasi Anda & berlaku selama 4 menit. "
        "Hindari penipuan dengan tidak membagikan kode Anda kepada siapapun."
    )


@dataclass(frozen=True)
class OtpView:
    active_status: str  # as `active_order` shows it
    status: str  # as `status&id=` shows it
    sms: str
    active: bool  # still listed by `active_order`


def otp_view(order: SandboxOrder, now: datetime) -> OtpView:
    arrived = order.otp_at is not None and order.otp_at <= now
    sms = otp_sms(order.pk, order.resend_count) if arrived else order.previous_sms
    if order.closed_status:
        return OtpView(order.closed_status, order.closed_status, sms, active=False)
    if sms:
        return OtpView("Otp Diterima", "Processing", sms, active=True)
    return OtpView("Ready" if order.ready_at else "Pending", "Pending", "", active=True)


PROTOCOL = register(
    SandboxProtocol(
        kind=KIND,
        title="VirtuSIM (OTP)",
        base_path="virtusim/json.php",
        urls=[path("virtusim/json.php", endpoint, name="virtusim")],
        external_id=lambda pk: str(9000 + pk),
        demo_provider="Sandbox VirtuSIM",
        demo_balance=Decimal("500000"),
        wrong_types={"status": True, "data": "oops"},
    )
)
