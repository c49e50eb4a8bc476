"""Shared helpers for the adapter tests: recorded replies, configs, a strict `responses` mock, and a
guard that no credential ever reaches the logs."""

from __future__ import annotations

import dataclasses
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest
import responses

from providers.adapters import get_adapter
from providers.adapters.base import ProviderAdapter
from providers.adapters.errors import ProviderError
from providers.adapters.types import ProviderConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# Characters that change under URL encoding, so masking must cover the encoded forms too.
API_KEY = "K3y-s3cret+/=Zq9XW"
PASSWORD = "p4ss w0rd&Rahasia"
USER_ID = "1042"
SECRETS = {form for s in (API_KEY, PASSWORD) for form in (s, quote(s, safe=""), quote_plus(s, safe=""))}

URLS = {
    "virtusim": "https://virtusim.test/api/json.php",
    "smm_v2": "https://smm.test/api/v2",
    "rajasms": "https://rajasms.test",
    "masking_http": "https://masking.test/masking",
    "osimesa": "https://osimesa.test/api/prepaid",
}
CALLBACK_URL = "https://panel.test/callbacks/rajasms/"


def fixture_text(kind: str, name: str) -> str:
    return (FIXTURES / kind / name).read_text(encoding="utf-8")


def fixture_json(kind: str, name: str) -> Any:
    return json.loads(fixture_text(kind, name))


def make_config(kind: str, **overrides: Any) -> ProviderConfig:
    config = ProviderConfig(
        base_url=URLS[kind],
        api_key=API_KEY,
        user_id=USER_ID,
        username="panelku",
        password=PASSWORD,
        name=f"{kind}-test",
        callback_url=CALLBACK_URL,
    )
    return dataclasses.replace(config, **overrides)


def make_adapter(kind: str, **overrides: Any) -> ProviderAdapter:
    return get_adapter(kind, make_config(kind, **overrides))


def assert_no_secret(exc: BaseException) -> None:
    """Neither the message, the stored body excerpt nor a printed traceback shows a credential."""
    shown = [str(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, ProviderError):
        shown.append(exc.body_excerpt)
    for text in shown:
        for secret in SECRETS:
            assert secret not in text


def form(call: Any) -> dict[str, str]:
    """The urlencoded body of a recorded request."""
    body = call.request.body or ""
    return dict(parse_qsl(body if isinstance(body, str) else body.decode()))


def query(call: Any) -> dict[str, str]:
    """The query string of a recorded request."""
    return dict(parse_qsl(urlsplit(call.request.url).query))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Everything logged while a test runs, tracebacks included, is free of credentials."""
    caplog.set_level(logging.DEBUG)
    yield
    formatter = logging.Formatter("%(name)s %(message)s")
    for when in ("setup", "call"):
        for record in caplog.get_records(when):
            logged = formatter.format(record)
            for secret in SECRETS:
                assert secret not in logged, f"credential logged by {record.name}"
