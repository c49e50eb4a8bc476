"""Every adapter against every transport and reply fault: the exact error class, a readable
message, and no credential in the message, the body excerpt, a printed traceback or the logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from providers.adapters.base import ProviderAdapter
from providers.adapters.errors import (
    ProviderBadResponse,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.adapters.types import OrderRequest, ProductKind

from .conftest import API_KEY, PASSWORD, SECRETS, URLS, assert_no_secret, fixture_text, make_adapter

SMS = OrderRequest(kind=ProductKind.SMS, service_id="masking", message="Halo", recipients=("6281234567890",))
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
TRUNCATED_JSON = '{"status": true, "data": {"id": "'


@dataclass(frozen=True)
class Probe:
    """One representative call per adapter: the HTTP it makes and what the wrong-types fault says."""

    method: str
    path: str  # appended to the base URL
    call: Callable[[ProviderAdapter], Any]
    wrong_types: str  # fragment of the ProviderBadResponse message for fixtures/<kind>/wrong_types.json
    json: bool = True  # plain-text protocols judge non-text bodies on their own terms


PROBES = {
    "virtusim": Probe("GET", "", lambda a: a.fetch_services(), "data: expected a list, got 'oops'"),
    "smm_v2": Probe("POST", "", lambda a: a.fetch_balance(), "balance: expected a number, got 'lots'"),
    "rajasms": Probe(
        "POST",
        "/sms/api_sms_masking_send_json.php",
        lambda a: a.place_order(SMS),
        "sending_respon: expected a list with one object, got 'oops'",
    ),
    "masking_http": Probe(
        "GET", "/send.php", lambda a: a.place_order(SMS), "JSON instead of a plain-text reply", json=False
    ),
    "osimesa": Probe("POST", "", lambda a: a.fetch_services(), "data: expected a list, got 'oops'"),
}
KINDS = list(PROBES)


def url_of(kind: str) -> str:
    return URLS[kind] + PROBES[kind].path


def fails(kind: str, error: type[ProviderError], **overrides: Any) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        PROBES[kind].call(make_adapter(kind, **overrides))
    assert type(caught.value) is error, caught.value
    assert caught.value.provider == f"{kind}-test"
    assert_no_secret(caught.value)
    return caught.value


def serve(mocked: responses.RequestsMock, kind: str, **reply: Any) -> None:
    mocked.add(PROBES[kind].method, url_of(kind), **reply)


def leaky(exc_type: type[requests.RequestException], kind: str, *args: Any) -> requests.RequestException:
    """A requests error whose text quotes the URL with the credentials, as urllib3's do."""
    url = f"{url_of(kind)}?api_key={API_KEY}&password={PASSWORD}&encoded={sorted(SECRETS)[0]}"
    return exc_type(*args, f"Max retries exceeded with url: {url}")


# --- transport -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_connection_refused_for_real(kind):
    """Port 9 on localhost: a real refused connection, no mock."""
    base = {
        "virtusim": "http://127.0.0.1:9/api/json.php",
        "smm_v2": "http://127.0.0.1:9/api/v2",
        "rajasms": "http://127.0.0.1:9",
        "masking_http": "http://127.0.0.1:9/masking",
        "osimesa": "http://127.0.0.1:9/api/prepaid",
    }[kind]

    exc = fails(kind, ProviderUnavailable, base_url=base, connect_timeout=2.0)

    assert exc.message.startswith("cannot connect: ")
    assert "Connection refused" in exc.message or "Errno 111" in exc.message


@pytest.mark.parametrize("kind", KINDS)
def test_new_connection_error_cause_is_unavailable(mocked, kind):
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    serve(mocked, kind, body=requests.ConnectionError(MaxRetryError(None, url_of(kind), reason=cause)))

    exc = fails(kind, ProviderUnavailable)

    assert "Failed to establish a new connection" in exc.message


@pytest.mark.parametrize("kind", KINDS)
def test_connect_timeout_is_unavailable(mocked, kind):
    serve(mocked, kind, body=leaky(requests.ConnectTimeout, kind))

    exc = fails(kind, ProviderUnavailable)

    assert exc.message.startswith("connect timeout: ")
    assert "***" in exc.message  # the quoted URL was masked, not dropped


@pytest.mark.parametrize("kind", KINDS)
def test_read_timeout_is_an_unknown_outcome(mocked, kind):
    serve(mocked, kind, body=requests.ReadTimeout("read timed out. (read timeout=25)"))

    exc = fails(kind, ProviderOutcomeUnknown)

    assert exc.message == "no reply within 25s"


@pytest.mark.parametrize("kind", KINDS)
def test_connection_dropped_after_sending_is_an_unknown_outcome(mocked, kind):
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    serve(mocked, kind, body=requests.ConnectionError(reset))

    exc = fails(kind, ProviderOutcomeUnknown)

    assert exc.message.startswith("connection lost: ")


# --- replies -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_html_502_is_a_bad_response(mocked, kind):
    serve(mocked, kind, body=NGINX_502, status=502, content_type="text/html")

    exc = fails(kind, ProviderBadResponse)

    assert exc.http_status == 502
    assert "502 Bad Gateway" in exc.body_excerpt
    expected = "server error page (HTML page instead of JSON)" if PROBES[kind].json else "HTTP 502 instead of a reply"
    assert exc.message == expected
    assert str(exc) == f"{kind}-test: {expected} (HTTP 502)"


@pytest.mark.parametrize("kind", KINDS)
def test_non_json_4xx_is_a_refusal(mocked, kind):
    serve(mocked, kind, body="<html><h1>403 Forbidden</h1></html>", status=403, content_type="text/html")

    exc = fails(kind, ProviderRejected)

    assert exc.http_status == 403
    assert exc.message.startswith("request refused")


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_json_is_a_bad_response(mocked, kind):
    serve(mocked, kind, body=TRUNCATED_JSON, content_type="application/json")

    exc = fails(kind, ProviderBadResponse)

    assert exc.message == ("invalid JSON" if PROBES[kind].json else "JSON instead of a plain-text reply")
    assert exc.body_excerpt == TRUNCATED_JSON


@pytest.mark.parametrize("kind", KINDS)
def test_empty_body_is_a_bad_response(mocked, kind):
    serve(mocked, kind, body="")

    exc = fails(kind, ProviderBadResponse)

    assert exc.message == "empty reply"


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_types_are_a_bad_response_naming_the_field(mocked, kind):
    serve(mocked, kind, body=fixture_text(kind, "wrong_types.json"), content_type="application/json")

    exc = fails(kind, ProviderBadResponse)

    assert PROBES[kind].wrong_types in exc.message


@pytest.mark.parametrize("kind", ["virtusim", "smm_v2", "osimesa"])
def test_json_of_the_wrong_top_level_shape(mocked, kind):
    serve(mocked, kind, json=["not", "an", "object"])

    exc = fails(kind, ProviderBadResponse)

    assert "expected" in exc.message


@pytest.mark.parametrize("kind", KINDS)
def test_secrets_in_a_reply_are_masked_in_the_excerpt(mocked, kind):
    echo = f"<html>error for key {API_KEY} / {PASSWORD}</html>"
    serve(mocked, kind, body=echo, status=500, content_type="text/html")

    exc = fails(kind, ProviderBadResponse)

    assert exc.body_excerpt == "<html>error for key *** / ***</html>"
