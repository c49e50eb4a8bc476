"""The base every protocol adapter stands on: one HTTP session with timeouts, error classification,
secret masking in logs, status tables. Subclasses implement the vendor's shapes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from .errors import (
    CallbackInvalid,
    ProviderBadResponse,
    ProviderError,
    ProviderNotSupported,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from .guard import ProviderGuard, guard_for
from .types import (
    ActionResult,
    Capability,
    DeliveryReport,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderBalance,
    ProviderConfig,
    RefillResult,
    ServiceInfo,
    Status,
    StatusResult,
)

logger = logging.getLogger("providers.http")

USER_AGENT = "ResellerPanel/1.0 (+https://github.com/) python-requests"
BODY_EXCERPT = 300


def make_session() -> requests.Session:
    """A session that never retries on its own: a retried placement could order twice."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when a ConnectionError happened before the request left (refused, DNS, connect timeout)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | NameResolutionError | ConnectTimeoutError):
            return True
        reason = getattr(cause, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            cause = reason
            continue
        nxt = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        cause = nxt or cause.__cause__ or cause.__context__
    return False


def _innermost(exc: BaseException) -> BaseException:
    """The deepest error urllib3 wrapped (`reason` / first argument): "Failed to establish a new
    connection: [Errno 111] Connection refused" rather than the pool preamble quoting the URL."""
    seen = {id(exc)}
    while True:
        reason = getattr(exc, "reason", None)
        inner = reason if isinstance(reason, BaseException) else (exc.args[:1] or [None])[0]
        if not isinstance(inner, BaseException) or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def to_decimal(value: Any, *, field: str = "value") -> Decimal:
    """Vendors send numbers as numbers or strings ("650", "500000.00", 1,5). Reject anything else."""
    if isinstance(value, bool) or value is None:
        raise ProviderBadResponse(f"{field}: expected a number, got {value!r}")
    try:
        result = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ProviderBadResponse(f"{field}: expected a number, got {value!r}") from None
    if not result.is_finite():
        raise ProviderBadResponse(f"{field}: expected a number, got {value!r}")
    return result


def to_int(value: Any, *, field: str = "value", default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    number = to_decimal(value, field=field)
    if number != number.to_integral_value():
        raise ProviderBadResponse(f"{field}: expected a whole number, got {value!r}")
    return int(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y")
    return bool(value)


_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})


def describe(value: Any) -> str:
    """A short repr for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_flag(value: Any, *, field: str = "value") -> bool:
    """A strict boolean: true/false, 1/0 or their string forms; anything else is a shape error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ProviderBadResponse(f"{field}: expected true or false, got {describe(value)}")


def as_mapping(value: Any, *, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProviderBadResponse(f"{field}: expected an object, got {describe(value)}")
    return value


def as_list(value: Any, *, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProviderBadResponse(f"{field}: expected a list, got {describe(value)}")
    return value


class Record:
    """One JSON object of a vendor reply with typed accessors. A missing required field or a value
    of the wrong type raises ProviderBadResponse naming the field by its path (`data[3].price`)."""

    __slots__ = ("data", "path")

    def __init__(self, value: Any, path: str = "") -> None:
        self.path = path
        self.data: Mapping[str, Any] = as_mapping(value, field=path or "reply")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def _value(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise ProviderBadResponse(f"{self.where(key)}: missing")
            return None
        return value

    def text(self, key: str, *, required: bool = False) -> str:
        value = self._value(key, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ProviderBadResponse(f"{self.where(key)}: expected text, got {describe(value)}")
        return value

    def ident(self, key: str, *, required: bool = True) -> str:
        """An id: vendors send them as strings or integers."""
        value = self._value(key, required)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ProviderBadResponse(f"{self.where(key)}: expected an id, got {describe(value)}")
        return str(value).strip()

    def decimal(self, key: str, *, required: bool = True) -> Decimal | None:
        value = self._value(key, required)
        return None if value is None else to_decimal(value, field=self.where(key))

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self._value(key, required)
        return None if value is None else to_int(value, field=self.where(key))

    def flag(self, key: str, *, required: bool = False) -> bool:
        value = self._value(key, required)
        return False if value is None else to_flag(value, field=self.where(key))

    def record(self, key: str, *, required: bool = True) -> Record:
        value = self._value(key, required)
        return Record({} if value is None else value, self.where(key))

    def records(self, key: str) -> list[Record]:
        return records(self.data.get(key), self.where(key))


def records(value: Any, path: str) -> list[Record]:
    """A JSON list of objects, each read as a Record (`path[i]`)."""
    if value is None:
        raise ProviderBadResponse(f"{path}: missing")
    return [Record(item, f"{path}[{index}]") for index, item in enumerate(as_list(value, field=path))]


def unique(ids: Sequence[str]) -> list[str]:
    """Ids in their first order, without blanks or repeats (a batch asks for each id once)."""
    return list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))


class ProviderAdapter:
    """Subclasses set `kind`, `product_kind`, `capabilities`, `status_map` and implement the calls."""

    kind: ClassVar[str] = ""
    product_kind: ClassVar[ProductKind]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    status_map: ClassVar[Mapping[str, Status]] = {}
    # Statuses a vendor may send that are not in the table are treated as still running.
    fallback_status: ClassVar[Status] = Status.PROCESSING

    def __init__(self, config: ProviderConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or make_session()

    # --- capability checks ----------------------------------------------------------------------
    def has(self, capability: Capability) -> bool:
        return capability in self.effective_capabilities()

    def effective_capabilities(self) -> frozenset[Capability]:
        """Capabilities of this provider; adapters narrow them from config options."""
        return self.capabilities

    def _unsupported(self, action: str) -> ProviderNotSupported:
        return ProviderNotSupported(f"{action} is not supported by {self.kind}", provider=self.label)

    @property
    def label(self) -> str:
        return self.config.name or self.kind

    # --- the protocol surface (ARCHITECTURE: Provider adapters) --------------------------------
    def fetch_services(self) -> list[ServiceInfo]:
        return []

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        raise NotImplementedError

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        raise NotImplementedError

    def fetch_balance(self) -> ProviderBalance:
        raise self._unsupported("balance")

    def cancel(self, external_id: str) -> ActionResult:
        raise self._unsupported("cancel")

    def refill(self, external_id: str) -> RefillResult:
        raise self._unsupported("refill")

    def refill_status(self, refill_id: str) -> RefillResult:
        raise self._unsupported("refill_status")

    def ready(self, external_id: str) -> ActionResult:
        raise self._unsupported("ready")

    def resend(self, external_id: str) -> ActionResult:
        raise self._unsupported("resend")

    def done(self, external_id: str) -> ActionResult:
        raise self._unsupported("done")

    def recent_orders(self, limit: int = 15) -> list[StatusResult]:
        raise self._unsupported("recent_orders")

    def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        raise self._unsupported("report")

    def parse_callback(
        self, method: str, query: Mapping[str, str], body: bytes, content_type: str = ""
    ) -> list[DeliveryReport]:
        raise CallbackInvalid(f"{self.kind} sends no callbacks")

    # --- helpers for subclasses ------------------------------------------------------------------
    def map_status(self, raw: str) -> Status:
        key = (raw or "").strip().lower()
        for name, status in self.status_map.items():
            if name.lower() == key:
                return status
        logger.warning("%s: unmapped vendor status %r treated as %s", self.label, raw, self.fallback_status)
        return self.fallback_status

    def _mask(self, text: str) -> str:
        config = self.config
        for secret in (config.api_key, config.password, config.username, config.user_id):
            if secret and len(secret) >= 4:
                # URLs carry the percent-encoded form (query strings, error messages quoting the URL)
                for form in {secret, quote(secret, safe=""), quote_plus(secret, safe="")}:
                    text = text.replace(form, "***")
        return text

    def _reason(self, exc: BaseException) -> str:
        return self._mask(str(_innermost(exc)))[:200]

    def _timeout(self) -> tuple[float, float]:
        return (self.config.connect_timeout, self.config.read_timeout)

    @property
    def guard(self) -> ProviderGuard:
        """This provider's bulkhead and breaker in this process (providers.adapters.guard)."""
        config = self.config
        return guard_for(config.guard_key or f"url:{config.base_url}", self.label, config.guard_limits)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request with timeouts, through the provider's guard, and map transport failures onto
        the error hierarchy. A full bulkhead or an open breaker raises before anything is sent.

        HTTP status is not judged here: vendors put JSON errors on 4xx/5xx alike, so the caller
        decides after looking at the body (see `parse_json`).
        """
        guard = self.guard
        if guard.holds():  # the caller took the slot already (e.g. before charging an OTP order)
            return self._guarded(guard, method, url, params, data, json_body, headers)
        with guard.slot():
            return self._guarded(guard, method, url, params, data, json_body, headers)

    def _guarded(self, guard: ProviderGuard, method: str, url: str, *args: Any) -> requests.Response:
        try:
            response = self._transmit(method, url, *args)
        except (ProviderUnavailable, ProviderOutcomeUnknown):
            guard.record(ok=False)
            raise
        guard.record(ok=response.status_code < 500)
        return response

    def _transmit(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                json=json_body,
                headers=dict(headers or {}),
                timeout=self._timeout(),
                allow_redirects=False,
            )
        # `from None`: the requests exception quotes the URL, and VirtuSIM / masking_http carry
        # credentials in the query string; the masked text above is all a traceback should show.
        except requests.ConnectTimeout as exc:
            raise ProviderUnavailable(f"connect timeout: {self._reason(exc)}", provider=self.label) from None
        except requests.ReadTimeout:
            raise ProviderOutcomeUnknown(
                f"no reply within {self.config.read_timeout:g}s", provider=self.label
            ) from None
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise ProviderUnavailable(f"cannot connect: {self._reason(exc)}", provider=self.label) from None
            raise ProviderOutcomeUnknown(f"connection lost: {self._reason(exc)}", provider=self.label) from None
        except requests.RequestException as exc:  # chunked encoding, decoding, invalid URL...
            raise ProviderOutcomeUnknown(f"request failed: {self._reason(exc)}", provider=self.label) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "%s %s %s -> %s in %.0f ms: %s",
            self.label,
            method,
            self._mask(response.url),
            response.status_code,
            elapsed_ms,
            self._mask(response.text[:BODY_EXCERPT]).replace("\n", " "),
        )
        return response

    def parse_json(self, response: requests.Response) -> Any:
        """Decode a JSON reply or raise ProviderBadResponse with a readable reason."""
        body = response.text
        excerpt = self._mask(body[:BODY_EXCERPT])
        if not body.strip():
            raise ProviderBadResponse(
                "empty reply", provider=self.label, http_status=response.status_code, body_excerpt=excerpt
            )
        try:
            return json.loads(body)
        except ValueError:
            looks_html = body.lstrip()[:1] == "<"
            reason = "HTML page instead of JSON" if looks_html else "invalid JSON"
            if response.status_code >= 500:
                reason = f"server error page ({reason})"
            raise ProviderBadResponse(
                reason, provider=self.label, http_status=response.status_code, body_excerpt=excerpt
            ) from None

    def bad(self, message: str, response: requests.Response | None = None) -> ProviderBadResponse:
        return ProviderBadResponse(
            message,
            provider=self.label,
            http_status=response.status_code if response is not None else None,
            body_excerpt=self._mask(response.text[:BODY_EXCERPT]) if response is not None else "",
        )

    def rejected(self, message: str, response: requests.Response | None = None) -> ProviderRejected:
        return ProviderRejected(
            message,
            provider=self.label,
            http_status=response.status_code if response is not None else None,
            body_excerpt=self._mask(response.text[:BODY_EXCERPT]) if response is not None else "",
        )

    def json_reply(self, response: requests.Response) -> Any:
        """`parse_json`, except that a non-JSON 4xx reply is a refusal: the vendor (or its front
        server) turned the request away before acting on it. A non-JSON 5xx stays a bad response."""
        try:
            return self.parse_json(response)
        except ProviderBadResponse as exc:
            if 400 <= response.status_code < 500:
                raise self.rejected(f"request refused ({exc.message})", response) from None
            raise

    @contextmanager
    def reading(self, response: requests.Response) -> Iterator[None]:
        """Wrap the parsing of one reply: errors raised bare by the field helpers get the provider,
        HTTP status and body excerpt, and a stray Python error becomes ProviderBadResponse."""
        try:
            yield
        except ProviderError as exc:
            if exc.provider:
                raise
            raise type(exc)(
                exc.message,
                provider=self.label,
                http_status=response.status_code,
                body_excerpt=self._mask(response.text[:BODY_EXCERPT]),
            ) from None
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            raise self.bad(f"unexpected reply shape ({type(exc).__name__}: {exc})", response) from None
