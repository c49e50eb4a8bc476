"""Upstream protocol adapters, one module per protocol, keyed by `Provider.kind`."""

from __future__ import annotations

import requests

from .base import ProviderAdapter
from .masking_http import MaskingHttpAdapter
from .osimesa import OsimesaAdapter
from .rajasms import RajaSmsAdapter
from .smm_v2 import SmmV2Adapter
from .types import ProviderConfig
from .virtusim import VirtuSimAdapter

ADAPTERS: dict[str, type[ProviderAdapter]] = {
    adapter.kind: adapter
    for adapter in (VirtuSimAdapter, SmmV2Adapter, RajaSmsAdapter, MaskingHttpAdapter, OsimesaAdapter)
}

KIND_CHOICES: list[tuple[str, str]] = [
    ("virtusim", "VirtuSIM (OTP numbers)"),
    ("smm_v2", "SMM panel API v2"),
    ("rajasms", "RajaSMS (SMS JSON)"),
    ("masking_http", "SMS masking HTTP"),
    ("osimesa", "Osimesa (prepaid)"),
]


def get_adapter(kind: str, config: ProviderConfig, session: requests.Session | None = None) -> ProviderAdapter:
    try:
        adapter = ADAPTERS[kind]
    except KeyError:
        raise ValueError(f"unknown provider kind {kind!r}; known: {', '.join(ADAPTERS)}") from None
    return adapter(config, session=session)


__all__ = ["ADAPTERS", "KIND_CHOICES", "get_adapter"]
