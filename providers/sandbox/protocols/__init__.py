"""The simulated vendors: one module per protocol in this package, each registering a `SandboxProtocol`.

A module holds the vendor's endpoints, its generated catalogue and its rules, and declares here what the
rest of the sandbox needs (addresses, ids, demo account, fault body, delivery reports). Every module is
imported once, so a new protocol is a new module and nothing else to edit (docs/adding-a-provider.md).
"""

from __future__ import annotations

import pkgutil
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.urls import URLPattern

if TYPE_CHECKING:
    from ..models import SandboxAccount, SandboxOrder


def api_key_credentials() -> dict[str, str]:
    """A fresh random API key, the credential most vendors use."""
    return {"api_key": secrets.token_hex(16)}


def account_credentials(account: SandboxAccount) -> dict[str, str]:
    """The provider credentials that log in to `account`: its non-empty key, user id and login."""
    fields = {name: getattr(account, name) for name in ("api_key", "user_id", "username", "password")}
    return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class DeliveryReport:
    """How the vendor pushes one delivery report: `POST` with a JSON body or `GET` with a query string."""

    method: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SandboxProtocol:
    kind: str  # the adapter's `kind` (providers.adapters): a sandbox account of this kind speaks its protocol
    title: str
    base_path: str  # under the sandbox's root, what `Provider.base_url` points at, e.g. "virtusim/json.php"
    urls: list[URLPattern]  # included under `sandbox/`
    external_id: Callable[[int], str]  # the vendor's order id for the sandbox order's pk
    demo_provider: str  # the name `make demo` gives the provider pointed at this protocol
    demo_balance: Decimal
    wrong_types: object  # the `wrong_types` fault: valid JSON of the wrong shape for this vendor
    demo_credentials: Callable[[], dict[str, str]] = api_key_credentials
    # The provider credentials (by the adapter's credential names) that log in to a sandbox account.
    provider_credentials: Callable[[SandboxAccount], dict[str, str]] = account_credentials
    delivery_report: Callable[[SandboxOrder], DeliveryReport] | None = None  # vendors that push DLRs
    # The vendor calls back a URL registered out of band (not one sent with each request).
    registered_callback: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


PROTOCOLS: dict[str, SandboxProtocol] = {}


def register(protocol: SandboxProtocol) -> SandboxProtocol:
    known = PROTOCOLS.get(protocol.kind)
    if known is not None and known is not protocol:
        raise ValueError(f"sandbox protocol {protocol.kind!r} is registered twice")
    PROTOCOLS[protocol.kind] = protocol
    return protocol


@contextmanager
def registered(protocol: SandboxProtocol) -> Iterator[SandboxProtocol]:
    """Register `protocol` for the duration of a block (tests plugging in a throw-away vendor)."""
    register(protocol)
    try:
        yield protocol
    finally:
        PROTOCOLS.pop(protocol.kind, None)


def protocol_of(kind: str) -> SandboxProtocol:
    try:
        return PROTOCOLS[kind]
    except KeyError:
        raise ValueError(f"no sandbox protocol {kind!r}; known: {', '.join(PROTOCOLS)}") from None


def kind_choices() -> list[tuple[str, str]]:
    """`SandboxAccount.kind` choices by title, read when a form is built: a new protocol needs no migration."""
    return sorted(((kind, protocol.title) for kind, protocol in PROTOCOLS.items()), key=lambda choice: choice[1])


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        import_module(f"{__name__}.{module.name}")


_discover()
