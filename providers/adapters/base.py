"""The base every protocol adapter stands on: requests through the provider's guard with timeouts, error
classification, secret masking in logs, status tables. Subclasses implement the vendor's shapes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import requests
from django.utils.translation import gettext_noop

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
from .http import BODY_EXCERPT, _innermost, _never_sent, make_session
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


@dataclass(frozen=True)
class Credential:
    """One secret a protocol needs, as the operator's form asks for it (stored encrypted, never shown)."""

    name: str  # the key in the encrypted credentials, e.g. "api_key"
    label: str  # the form label in English, translated where it is shown, e.g. "API key"


API_KEY = Credential("api_key", gettext_noop("API key"))
USER_ID = Credential("user_id", gettext_noop("User ID"))
USERNAME = Credential("username", gettext_noop("Username"))
PASSWORD = Credential("password", gettext_noop("Password"))


class ProviderAdapter:
    """One upstream protocol. A subclass declares what the rest of the panel needs to know about it
    (`kind`, `title`, `product_kind`, `capabilities`, `credentials`, `sms_routes`, `status_map`),
    implements the calls, and is registered with `providers.adapters.register` (docs/adding-a-provider.md)."""

    kind: ClassVar[str] = ""  # stored in Provider.kind; also the sandbox protocol's key
    title: ClassVar[str] = ""  # the operator's name for the protocol, e.g. "VirtuSIM (OTP numbers)"
    product_kind: ClassVar[ProductKind]
    credentials: ClassVar[tuple[Credential, ...]] = (API_KEY,)
    sms_routes: ClassVar[tuple[str, ...]] = ()  # SMS gateways: the routes (providers.models.ROUTE_LABELS) offered
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    status_map: ClassVar[Mapping[str, Status]] = {}
    # Statuses a vendor may send that are not in the table are treated as still running.
    fallback_status: ClassVar[Status] = Status.PROCESSING
    # SMS delivery codes meaning the provider's own account at the vendor cannot pay (balance ran out,
    # validity expired), with what an operator should read. Such SMS were not sent and are refunded like a
    # refusal, but every further send fails the same way until the account is topped up (orders.delivery).
    account_codes: ClassVar[Mapping[str, str]] = {}

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
        for secret in {config.api_key, config.password, config.username, config.user_id, *config.credentials.values()}:
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
                refusal=exc.refusal,
            ) from None
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            raise self.bad(f"unexpected reply shape ({type(exc).__name__}: {exc})", response) from None
