"""Upstream protocol adapters: one module per protocol in this package, each registering its adapter class.

Every module here is imported once, so a new protocol is a new module with a `@register`ed class and
nothing else to edit (docs/adding-a-provider.md). `Provider.kind` stores the adapter's `kind`.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

import requests

from .base import API_KEY, PASSWORD, USER_ID, USERNAME, Credential, ProviderAdapter
from .types import ProviderConfig

ADAPTERS: dict[str, type[ProviderAdapter]] = {}


def register(adapter: type[ProviderAdapter]) -> type[ProviderAdapter]:
    """Class decorator: make `adapter` the protocol of its `kind`."""
    if not adapter.kind or not adapter.title:
        raise TypeError(f"{adapter.__name__} must declare `kind` and `title`")
    known = ADAPTERS.get(adapter.kind)
    if known is not None and known is not adapter:
        raise ValueError(f"provider kind {adapter.kind!r} is taken by {known.__name__}")
    ADAPTERS[adapter.kind] = adapter
    return adapter


@contextmanager
def registered(adapter: type[ProviderAdapter]) -> Iterator[type[ProviderAdapter]]:
    """Register `adapter` for the duration of a block (tests plugging in a throw-away protocol)."""
    register(adapter)
    try:
        yield adapter
    finally:
        ADAPTERS.pop(adapter.kind, None)


def kind_choices() -> list[tuple[str, str]]:
    """`Provider.kind` choices by title, read when a form is built: a new adapter needs no migration."""
    return sorted(((kind, adapter.title) for kind, adapter in ADAPTERS.items()), key=lambda choice: choice[1])


def credential_fields() -> dict[str, Credential]:
    """Every credential any protocol asks for, by name: the common four first, then the others in the order
    the protocols declare them."""
    fields = {
        c.name: c for c in (API_KEY, USER_ID, USERNAME, PASSWORD) if any(c in a.credentials for a in ADAPTERS.values())
    }
    for adapter in ADAPTERS.values():
        for credential in adapter.credentials:
            fields.setdefault(credential.name, credential)
    return fields


def get_adapter(kind: str, config: ProviderConfig, session: requests.Session | None = None) -> ProviderAdapter:
    try:
        adapter = ADAPTERS[kind]
    except KeyError:
        raise ValueError(f"unknown provider kind {kind!r}; known: {', '.join(ADAPTERS)}") from None
    return adapter(config, session=session)


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        import_module(f"{__name__}.{module.name}")


_discover()

__all__ = ["ADAPTERS", "credential_fields", "get_adapter", "kind_choices", "register", "registered"]
