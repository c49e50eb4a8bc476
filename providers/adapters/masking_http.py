"""SMS masking over plain HTTP (provider-docs 003). `base_url` is the folder holding send.php; replies
are plain text: a bare number (the report id) for an accepted SMS, the vendor's message otherwise.
One recipient per request; delivery comes back as a GET callback or by polling report.php."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import requests

from . import register
from .base import PASSWORD, USERNAME, ProviderAdapter
from .errors import (
    CallbackInvalid,
    ProviderBadResponse,
    ProviderNotSupported,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from .types import (
    Capability,
    DeliveryReport,
    DeliveryState,
    IncomingSms,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderBalance,
    RecipientResult,
    SentSms,
    Status,
    StatusResult,
)
from .values import unique

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 1000
# After this many sends in a row with a lost reply, the gateway is treated as down for the rest.
MAX_UNKNOWN_STREAK = 3
REPORT_ID = re.compile(r"\d+")
REPORT_CODE = re.compile(r"(\d+)\b\s*(.*)", re.DOTALL)
AMOUNT = re.compile(r"\d[\d.,]*")
WIB = ZoneInfo("Asia/Jakarta")  # the gateway's clock

# DLR `error_code`s (provider-docs 003, "Callable API DLR"). None of the three failures costs the vendor's
# balance: 52 says so ("tidak memotong saldo"); 50 and 51 mean the account had no usable balance, so the SMS
# was never sent. All three are REJECTED (not charged upstream: the reseller's share is refunded).
DELIVERY_STATES: Mapping[str, DeliveryState] = {
    "22": DeliveryState.DELIVERED,
    "20": DeliveryState.SENT,  # pending: handset off for now
    "50": DeliveryState.REJECTED,  # Insufficient Credit Balance (Saldo Habis)
    "51": DeliveryState.REJECTED,  # Expiration Periode (Periode Habis)
    "52": DeliveryState.REJECTED,  # No Charge: bad number format, balance not cut
}
SALDO_HABIS, PERIODE_HABIS, NO_CHARGE = "50", "51", "52"
# report.php answers 50 for all three, with the reason as text ("50 No Charge"). Each reason becomes the DLR
# code that names it, so a poll and a callback about one SMS record the same code. The DLR's English texts
# are accepted too.
REPORT_50_REASONS: tuple[tuple[str, str], ...] = (
    ("no charge", NO_CHARGE),
    ("periode habis", PERIODE_HABIS),
    ("expiration period", PERIODE_HABIS),  # also "Expiration Periode"
    ("saldo habis", SALDO_HABIS),
    ("insufficient credit", SALDO_HABIS),
)
# The texts the document gives beside each code (report.php's and the DLR's wording), for a report
# that prints the text instead of the code.
REPORT_TEXT_CODES: Mapping[str, str] = {
    "delivered": "22",
    "pending": "20",
    "saldo habis": "50",
    "insufficient credit balance": "50",
    "periode habis": "51",
    "expiration period": "51",
    "expiration periode": "51",
    "no charge": "52",
}

# reports_post.php / inbox.php tables: our name -> the header names that mean it (first found wins).
# The contract's names come first (id,tanggal,msisdn,pesan,jumlah_sms,status,keterangan and
# id,tanggal,pengirim,pesan); the rest are the vendor's own words for the same things.
REPORT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "rpt", "report_id", "session_id"),
    "at": ("tanggal", "waktu", "date", "time"),
    "number": ("msisdn", "hp", "tujuan", "nomor"),
    "message": ("pesan", "message"),
    "parts": ("jumlah_sms", "jumlah", "sms"),
    "status": ("status", "error_code", "kode"),
    "text": ("keterangan", "error_message", "description"),
}
INBOX_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "inbox_id"),
    "at": ("tanggal", "waktu", "date", "time"),
    "number": ("pengirim", "msisdn", "hp", "nomor", "sender"),
    "text": ("pesan", "message", "isi"),
}
DELIMITERS = (",", ";", "\t", "|")
TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y")


def parse_amount(text: str) -> Decimal | None:
    """The first number in `text`: "150000", "Saldo: Rp 1.234.567", "1,234,567.50". A separator
    followed by exactly three digits groups thousands; otherwise the last one is the decimal point."""
    match = AMOUNT.search(text)
    if match is None:
        return None
    number = match.group().rstrip(".,")
    head, sep, tail = max(number.rpartition("."), number.rpartition(","), key=lambda part: len(part[0]))
    if sep and len(tail) != 3:
        return Decimal(re.sub(r"[.,]", "", head) + "." + tail)
    return Decimal(re.sub(r"[.,]", "", number))


# balance.php as public clients of the gateway read it: "<balance>,<expiry yyyy/mm/dd-hh:mm:ss>". The expiry
# is split off first, or parse_amount would read "150000,2099" as 150000.2099.
BALANCE_EXPIRY = re.compile(r"\s*,\s*(\d{4}/\d{1,2}/\d{1,2}(?:[- ]\d{1,2}:\d{2}(?::\d{2})?)?)\s*$")


@register
class MaskingHttpAdapter(ProviderAdapter):
    kind = "masking_http"
    title = "SMS masking HTTP"
    credentials = (USERNAME, PASSWORD)
    sms_routes = ("masking",)
    product_kind = ProductKind.SMS
    capabilities = frozenset(
        {Capability.BALANCE, Capability.CALLBACKS, Capability.REPORT_POLL, Capability.SENT_REPORT, Capability.INBOX}
    )
    # SMS orders take their state from per-recipient reports (DELIVERY_STATES), not an order status.
    status_map: Mapping[str, Status] = {}
    account_codes: Mapping[str, str] = {
        SALDO_HABIS: "Saldo Habis: the account's balance at the masking gateway ran out; top it up",
        PERIODE_HABIS: "Periode Habis: the balance at the masking gateway expired; top up to renew it",
    }

    def _url(self, script: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/{script}"

    def _credentials(self) -> dict[str, str]:
        return {"username": self.config.username, "password": self.config.password}

    # --- sending ---------------------------------------------------------------------------------
    def place_order(self, request: OrderRequest) -> PlacedOrder:
        """One request per recipient. A failure of the first request is raised as it is (nothing was
        accepted, so the caller may fall back to another route); later failures are recorded on the
        recipient: refused -> REJECTED; reply lost or garbled -> SENT with code "unknown" (it may have
        gone out: never refund it); gateway unreachable, or three lost replies in a row -> REJECTED
        with code "not_sent" for the rest (never sent, so not charged)."""
        numbers = list(request.recipients)
        if not numbers:
            raise ValueError("SMS order needs at least one recipient")
        if len(numbers) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} recipients per send, got {len(numbers)}")
        if request.schedule is not None:
            raise ProviderNotSupported("scheduled sending is not supported by masking_http", provider=self.label)
        first_id = self._send(numbers[0], request.message_for(0))
        results = [RecipientResult(number=numbers[0], external_id=first_id, state=DeliveryState.QUEUED)]
        results += self._send_rest(numbers[1:], [request.message_for(i) for i in range(1, len(numbers))])
        return PlacedOrder(external_id=first_id, status=Status.PROCESSING, raw_status="", recipients=tuple(results))

    def _send_rest(self, numbers: list[str], messages: list[str]) -> list[RecipientResult]:
        results: list[RecipientResult] = []
        streak = 0  # lost replies in a row
        for index, (number, message) in enumerate(zip(numbers, messages, strict=True)):
            try:
                report_id = self._send(number, message)
            except ProviderRejected as exc:
                results.append(_recipient(number, DeliveryState.REJECTED, "", exc.message))
                streak = 0
            except (ProviderOutcomeUnknown, ProviderBadResponse) as exc:
                results.append(_recipient(number, DeliveryState.SENT, "unknown", exc.message))
                streak += 1
                if streak >= MAX_UNKNOWN_STREAK:
                    reason = f"not sent: {streak} lost replies in a row"
                    return results + [_not_sent(n, reason) for n in numbers[index + 1 :]]
            except ProviderUnavailable as exc:
                return results + [_not_sent(n, exc.message) for n in numbers[index:]]
            else:
                results.append(RecipientResult(number=number, external_id=report_id, state=DeliveryState.QUEUED))
                streak = 0
        return results

    def _send(self, number: str, message: str) -> str:
        fields = {**self._credentials(), "hp": number, "message": message}
        if str(self.config.options.get("method", "get")).lower() == "post":
            response = self.request("POST", self._url("send_post.php"), data=fields)
        else:
            response = self.request("GET", self._url("send.php"), params=fields)
        body = self._text(response)
        if not REPORT_ID.fullmatch(body):
            raise self.rejected(body[:200], response)
        return body

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        return []  # delivery is per recipient: see fetch_reports and parse_callback

    # --- reports ---------------------------------------------------------------------------------
    def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """`report.php?rpt=` per report id. A reply that is not a known code is logged and skipped,
        so one odd id does not lose the batch; it is asked again next time."""
        reports = []
        for report_id in unique(external_ids):
            report = self._report(report_id)
            if report is not None:
                reports.append(report)
        return reports

    def _report(self, report_id: str) -> DeliveryReport | None:
        # The document shows only `rpt`; the login goes along so a gateway that scopes report ids to their
        # account (this panel's own /api/masking/, for one) answers too. The gateway ignores what it does not read.
        params = {"rpt": report_id, **self._credentials()}
        body = self._text(self.request("GET", self._url("report.php"), params=params))
        match = REPORT_CODE.fullmatch(body)
        state = DELIVERY_STATES.get(match.group(1)) if match else None
        if match is None or state is None:
            logger.warning("%s: report %s: unexpected reply %r", self.label, report_id, body[:100])
            return None
        code, text = match.group(1), match.group(2).strip(" \t\r\n-:|,;")
        if code == "50":
            code, state = self._reason_of_50(report_id, text)
        return DeliveryReport(external_id=report_id, number="", state=state, code=code, text=text)

    def _reason_of_50(self, report_id: str, text: str) -> tuple[str, DeliveryState]:
        """report.php's 50 by its reason: the DLR code naming it (not charged upstream). A reason the document
        does not list is not refunded blindly: FAILED (charged) with code 50 kept, and a warning, so an
        operator can check it against reports_post.php; a DLR with its real code still corrects it."""
        reason = " ".join(text.lower().split())
        for needle, code in REPORT_50_REASONS:
            if needle in reason:
                return code, DELIVERY_STATES[code]
        logger.warning("%s: report %s: 50 with an unknown reason %r; kept as failed", self.label, report_id, text)
        return "50", DeliveryState.FAILED

    def download_report(self, start: date, end: date) -> list[SentSms]:
        """reports_post.php for a date range (d-m-Y, both days inclusive): every SMS the account sent,
        one row each. The document shows only the request (an HTML form); the reply is the table of
        docs/upstream-contract.md, read by its header (see REPORT_COLUMNS and docs/provider-notes.md)."""
        if start > end:
            raise ValueError("report start date is after its end date")
        fields = {
            **self._credentials(),
            "start": start.strftime("%d-%m-%Y"),
            "end": end.strftime("%d-%m-%Y"),
            "download_report_button": "Download",  # the vendor's form posts its button too
        }
        response = self.request("POST", self._url("reports_post.php"), data=fields)
        # An empty body is not "nothing sent" (the reply always has its header): reconciling against it
        # would call every panel SMS missing upstream.
        rows = self._table(response, REPORT_COLUMNS, required=("id", "number", "status"), allow_empty=False)
        return [self._sent_row(row, response) for row in rows]

    def inbox(self) -> list[IncomingSms]:
        """inbox.php (collocation modem accounts): the messages received, read by the header like the
        report. An empty body is an empty inbox (nothing is stored from it, so nothing can go wrong)."""
        response = self.request("GET", self._url("inbox.php"), params=self._credentials())
        rows = self._table(response, INBOX_COLUMNS, required=("number", "text"), allow_empty=True)
        return [
            IncomingSms(
                external_id=self._digits(row, "id", response, required=False),
                number=row["number"],
                received_at=self._time(row, response),
                text=row["text"],
                raw=row["raw"],
            )
            for row in rows
        ]

    # --- report tables ---------------------------------------------------------------------------
    def _table(
        self,
        response: requests.Response,
        columns: Mapping[str, tuple[str, ...]],
        *,
        required: tuple[str, ...],
        allow_empty: bool,
    ) -> list[dict]:
        """Rows of a delimited table with a header line, keyed by `columns` (our name -> header aliases).
        A one-line reply that is no header is the vendor refusing ("Username atau Password salah")."""
        self._check_http(response)
        body = response.text.lstrip("\ufeff").strip()
        if not body:
            if allow_empty:
                return []
            raise self.bad("empty reply", response)
        if body[0] == "<":
            raise self.bad("HTML page instead of a report", response)
        if body[0] in "{[":
            raise self.bad("JSON instead of a report", response)
        first_line = body.splitlines()[0]
        delimiter = max(DELIMITERS, key=first_line.count)
        reader = csv.reader(io.StringIO(body), delimiter=delimiter)
        header = [cell.strip().lower() for cell in next(reader)]
        where = {name: _column(header, aliases) for name, aliases in columns.items()}
        if len(header) == 1 and body.count("\n") == 0 and all(where[name] is None for name in required):
            raise self.rejected(first_line[:200], response)  # a message, not a table
        missing = [name for name in required if where[name] is None]
        if missing:
            raise self.bad(f"report header {first_line[:120]!r} lacks {', '.join(missing)}", response)
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise self.bad(f"line {line}: {len(cells)} fields, the header has {len(header)}", response)
            row: dict = {name: cells[i].strip() if i is not None else "" for name, i in where.items()}
            row["raw"] = dict(zip(header, cells, strict=True))
            rows.append(row)
        return rows

    def _sent_row(self, row: dict, response: requests.Response) -> SentSms:
        """`status` holds the code (22) with its text in `keterangan`, or only the text (Delivered)."""
        status = row["status"]
        code = status if status.isdigit() else REPORT_TEXT_CODES.get(status.lower(), "")
        parts = self._digits(row, "parts", response, required=False)
        return SentSms(
            external_id=self._digits(row, "id", response, required=True),
            number=row["number"],
            sent_at=self._time(row, response),
            message=row["message"],
            parts=int(parts) if parts else None,
            code=code,
            state=DELIVERY_STATES.get(code),
            text=row["text"] or ("" if status.isdigit() else status),
            raw=row["raw"],
        )

    def _digits(self, row: dict, name: str, response: requests.Response, *, required: bool) -> str:
        value = row.get(name, "")
        if (value or required) and not REPORT_ID.fullmatch(value):
            raise self.bad(f"{name}: expected a number, got {value!r}", response)
        return value

    def _time(self, row: dict, response: requests.Response) -> datetime | None:
        value = row.get("at", "")
        if not value:
            return None
        for pattern in TIME_FORMATS:
            try:
                return datetime.strptime(value, pattern).replace(tzinfo=WIB)
            except ValueError:
                continue
        raise self.bad(f"time: expected d-m-Y H:i:s, got {value!r}", response)

    def fetch_balance(self) -> ProviderBalance:
        response = self.request("GET", self._url("balance.php"), params=self._credentials())
        body = self._text(response)
        expiry = BALANCE_EXPIRY.search(body)
        amount = parse_amount(body[: expiry.start()] if expiry else body)
        if amount is None:
            raise self.rejected(body[:200], response)  # e.g. "Username atau Password salah"
        raw = {"text": body, "expires": expiry.group(1)} if expiry else {"text": body}
        return ProviderBalance(amount=amount, raw=raw)

    def parse_callback(
        self, method: str, query: Mapping[str, str], body: bytes, content_type: str = ""
    ) -> list[DeliveryReport]:
        """The DLR GET: session_id (the report id), error_code, error_message, msisdn."""
        session_id = str(query.get("session_id", "")).strip()
        code = str(query.get("error_code", "")).strip()
        if not REPORT_ID.fullmatch(session_id):
            raise CallbackInvalid(f"session_id: expected a report id, got {session_id!r}")
        state = DELIVERY_STATES.get(code)
        if state is None:
            raise CallbackInvalid(f"error_code: unknown code {code!r}")
        return [
            DeliveryReport(
                external_id=session_id,
                number=str(query.get("msisdn", "")).strip(),
                state=state,
                code=code,
                text=str(query.get("error_message", "")).strip(),
                raw={key: query[key] for key in query},
            )
        ]

    # --- plain-text replies ----------------------------------------------------------------------
    def _check_http(self, response: requests.Response) -> None:
        if 400 <= response.status_code < 500:
            raise self.rejected(f"request refused (HTTP {response.status_code})", response)
        if response.status_code >= 300:
            raise self.bad(f"HTTP {response.status_code} instead of a reply", response)

    def _text(self, response: requests.Response) -> str:
        """The reply text, once it is certain the vendor itself answered: an empty body, an HTML page
        or JSON is not this protocol (and may follow a performed action), so it is not a refusal."""
        self._check_http(response)
        body = response.text.strip()
        if not body:
            raise self.bad("empty reply", response)
        if body[0] == "<":
            raise self.bad("HTML page instead of a plain-text reply", response)
        if body[0] in "{[":
            raise self.bad("JSON instead of a plain-text reply", response)
        return body


def _column(header: list[str], aliases: tuple[str, ...]) -> int | None:
    for alias in aliases:
        if alias in header:
            return header.index(alias)
    return None


def _recipient(number: str, state: DeliveryState, code: str, text: str) -> RecipientResult:
    return RecipientResult(number=number, external_id="", state=state, code=code, text=text)


def _not_sent(number: str, reason: str) -> RecipientResult:
    """Never reached the gateway: not charged upstream, so refundable like a refusal."""
    return _recipient(number, DeliveryState.REJECTED, "not_sent", reason)
