"""SMS masking over plain HTTP (provider-docs 003). `base_url` is the folder holding send.php; replies
are plain text: a bare number (the report id) for an accepted SMS, the vendor's message otherwise.
One recipient per request; delivery comes back as a GET callback or by polling report.php."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

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
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderBalance,
    RecipientResult,
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

# report.php replies and DLR `error_code`s.
DELIVERY_STATES: Mapping[str, DeliveryState] = {
    "22": DeliveryState.DELIVERED,
    "20": DeliveryState.SENT,  # pending: handset off for now
    "50": DeliveryState.FAILED,  # no balance
    "51": DeliveryState.FAILED,  # period expired
    "52": DeliveryState.REJECTED,  # No Charge: bad number, not charged upstream
}


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
    capabilities = frozenset({Capability.BALANCE, Capability.CALLBACKS, Capability.REPORT_POLL})
    # SMS orders take their state from per-recipient reports (DELIVERY_STATES), not an order status.
    status_map: Mapping[str, Status] = {}

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
        return DeliveryReport(
            external_id=report_id, number="", state=state, code=match.group(1), text=match.group(2).strip()
        )

    def download_report(self, start: date, end: date) -> str:
        """reports_post.php for a date range (d-m-Y): the vendor's report file as text."""
        if start > end:
            raise ValueError("report start date is after its end date")
        fields = {
            **self._credentials(),
            "start": start.strftime("%d-%m-%Y"),
            "end": end.strftime("%d-%m-%Y"),
            "download_report_button": "Download",  # the vendor's form posts its button too
        }
        response = self.request("POST", self._url("reports_post.php"), data=fields)
        self._check_http(response)
        return response.text

    def inbox(self) -> str:
        """inbox.php (collocation modem accounts): the vendor's inbox listing as text."""
        response = self.request("GET", self._url("inbox.php"), params=self._credentials())
        self._check_http(response)
        return response.text

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


def _recipient(number: str, state: DeliveryState, code: str, text: str) -> RecipientResult:
    return RecipientResult(number=number, external_id="", state=state, code=code, text=text)


def _not_sent(number: str, reason: str) -> RecipientResult:
    """Never reached the gateway: not charged upstream, so refundable like a refusal."""
    return _recipient(number, DeliveryState.REJECTED, "not_sent", reason)
