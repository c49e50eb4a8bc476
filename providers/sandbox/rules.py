"""The deterministic sandbox rules (docs/upstream-contract.md, "Sandbox behaviour").

Outcomes are decided from the request when an order is accepted (`*_outcome`); what a read shows
is a pure function of the stored order and the clock (`*_view`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import SandboxOrder

WIB = ZoneInfo("Asia/Jakarta")
OTP_WAITING = "Waiting SMS Code"
OTP_EXPIRY = timedelta(minutes=30)  # numbers left open close on their own (after the panel's 20 min)

# --- numbers and messages ------------------------------------------------------------------------
_MSISDN = re.compile(r"^628\d{7,11}$")


def normalize_msisdn(raw: str) -> str | None:
    """6281xx, 081xx or +6281xx -> 6281xx; None when it is not an Indonesian mobile number."""
    number = re.sub(r"[\s\-.()]", "", raw or "")
    if number.startswith("+"):
        number = number[1:]
    if number.startswith("08"):
        number = "62" + number[1:]
    return number if _MSISDN.match(number) else None


def sms_segments(message: str) -> int:
    """GSM-style count: 160 characters fit one SMS, longer ones are billed per 153."""
    return 1 if len(message) <= 160 else math.ceil(len(message) / 153)


def in_cutoff(start: str, end: str, at: time) -> bool:
    """Inside the daily window [start, end) (WIB); the window may cross midnight; start == end: none."""
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    if begin == finish:
        return False
    if begin < finish:
        return begin <= at < finish
    return at >= begin or at < finish


def parse_sending_datetime(raw: str) -> datetime | None:
    """RajaSMS `sendingdatetime`: "yyyy-mm-dd hh-mm-ss" (as documented) or with colons, WIB."""
    raw = (raw or "").strip()
    for fmt in ("%Y-%m-%d %H-%M-%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=WIB)
        except ValueError:
            continue
    return None


# --- VirtuSIM -------------------------------------------------------------------------------------
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


# --- SMM v2 ---------------------------------------------------------------------------------------
def smm_outcome(link: str, quantity: int) -> tuple[str, int]:
    """(final status, final remains) from the link's keyword."""
    lowered = link.lower()
    if "partial" in lowered:
        return "Partial", quantity // 3
    if "cancel" in lowered:
        return "Canceled", quantity
    if "error" in lowered:
        return "Error", quantity
    return "Completed", 0


@dataclass(frozen=True)
class SmmView:
    status: str
    remains: int
    start_count: int


def smm_view(order: SandboxOrder, now: datetime) -> SmmView:
    start_count = (order.pk * 7919) % 9000 + 100
    if order.closed_status:
        return SmmView(order.closed_status, order.remains, start_count)
    final_at = order.final_at or order.created_at
    started = order.created_at + (final_at - order.created_at) / 2
    if now < started:
        return SmmView("Pending", order.quantity, 0)
    if now < final_at:
        running = (now - started) / max(final_at - started, timedelta(microseconds=1))
        delivered = int((order.quantity - order.remains) * running)
        return SmmView("In progress", order.quantity - delivered, start_count)
    return SmmView(order.outcome, order.remains, start_count)


def refill_status(created_at: datetime, step_seconds: int, now: datetime) -> str:
    elapsed = (now - created_at).total_seconds()
    if elapsed < step_seconds:
        return "Pending"
    return "In progress" if elapsed < 2 * step_seconds else "Completed"


# --- Osimesa --------------------------------------------------------------------------------------
def prepaid_outcome(target: str) -> str:
    return "failed" if target.endswith("99") else "success"


def prepaid_voucher(order_pk: int, target: str) -> str:
    """A 16-digit serial number, shown once the transaction succeeded."""
    return f"{(order_pk * 48271 + int(target[-6:] or 0)) % 10**16:016d}"


def prepaid_status(order: SandboxOrder, now: datetime) -> str:
    return order.outcome if order.final_at is not None and order.final_at <= now else "waiting"


# --- SMS delivery ---------------------------------------------------------------------------------
RAJASMS_DELIVERY_TEXT = {
    1: "Schedule",
    2: "Sent",
    3: "Delivered Success",
    4: "Delivered Error",
    5: "System Failed",
    6: "Saldo Minus/Expired",
    7: "Reject",
    8: "System Error",
    9: "Duplicate message",
    10: "Delivered Success Backup",
}
MASKING_DLR_TEXT = {
    "22": "Delivered",
    "20": "Pending",
    "50": "Insufficient Credit Balance",
    "51": "Expiration Period",
    "52": "No Charge",
}


def rajasms_outcome(number: str) -> int:
    return 4 if number.endswith("4") else 3


def masking_outcome(number: str) -> str:
    if number.endswith("4"):
        return "50"
    return "52" if number.endswith("5") else "22"


def masking_code(order: SandboxOrder, now: datetime) -> str:
    """What `report.php` shows: 20 (pending) until the DLR time, then the outcome."""
    return order.outcome if order.dlr_at is not None and order.dlr_at <= now else "20"
