"""One error hierarchy for every upstream. What the caller may do depends only on the class:

- ProviderRejected: the vendor said no; the order definitely did not happen -> safe to refund.
- ProviderUnavailable: nothing was sent (refused, DNS, connect timeout) -> safe to refund.
- ProviderOutcomeUnknown: sent, but the reply was lost (read timeout, dropped connection) -> the order
  may exist upstream: never refund, reconcile.
- ProviderBadResponse: a reply came but is not what the protocol promises (HTML, invalid JSON, wrong
  types, HTTP 5xx). After a placement request this is as uncertain as a lost reply.
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """What a vendor's refusal means for the panel, where the adapter can tell from the vendor's text
    (e.g. VirtuSIM's documented messages). The panel acts on the meaning, never on vendor wording."""

    AUTH = "auth"  # the provider refused our credentials: the operator must fix them
    PROVIDER_FUNDS = "provider_funds"  # the panel's own account at the provider is out of money
    NO_SERVICE = "no_service"  # the product is gone upstream
    OUT_OF_STOCK = "out_of_stock"  # the product exists but has nothing to hand out now
    LIMIT = "limit"  # a count the provider allows was exceeded (e.g. numbers held at once)
    BAD_REQUEST = "bad_request"  # the provider did not understand the request
    NOT_FOUND = "not_found"  # no such order upstream
    REFUSED = "refused"  # an action on an order was refused (e.g. "Gagal Cancel")


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        http_status: int | None = None,
        body_excerpt: str = "",
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.http_status = http_status
        self.body_excerpt = body_excerpt[:500]
        self.refusal = refusal

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        http = f" (HTTP {self.http_status})" if self.http_status else ""
        return f"{where}{self.message}{http}"


class ProviderRejected(ProviderError):
    """The vendor refused the request; nothing happened upstream."""


class ProviderAccountError(ProviderRejected):
    """Refused because of the panel's own account with the vendor (its IP address is not registered, its
    balance has expired): nothing happened, and every request will be refused until an operator acts."""


class ProviderUnavailable(ProviderError):
    """The request never reached the vendor."""


class ProviderBusy(ProviderUnavailable):
    """Not sent: this process already has as many calls in flight to the provider as it allows (bulkhead)."""


class ProviderCircuitOpen(ProviderUnavailable):
    """Not sent: the provider failed repeatedly just now, so calls are refused until it recovers (breaker)."""


def held_back(exc: BaseException) -> bool:
    """Refused by the panel's own guard, not by the provider: worth trying again later."""
    return isinstance(exc, ProviderBusy | ProviderCircuitOpen)


class ProviderOutcomeUnknown(ProviderError):
    """The request was sent but its reply was lost: the effect upstream is unknown."""


class ProviderBadResponse(ProviderError):
    """A reply arrived but does not follow the protocol."""


class ProviderNotSupported(ProviderError):
    """The protocol (or this provider's configuration) does not offer the action."""


class CallbackInvalid(ValueError):
    """An inbound callback payload is malformed; the view answers 400."""


def may_have_happened(exc: BaseException) -> bool:
    """After a placement call failed: could the order exist upstream anyway?"""
    return not isinstance(exc, ProviderRejected | ProviderUnavailable | ProviderNotSupported)
