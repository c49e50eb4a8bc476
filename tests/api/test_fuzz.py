"""A seeded, bounded fuzz of the five downstream protocols, generated from `/api/openapi.json` itself: every
documented operation gets requests whose fields are drawn from the document (enums, the caller's real
key, real service and order ids) and from hostile text (NUL, other scripts' digits, huge numbers, lone
surrogates, nested JSON), and documented headers (Idempotency-Key) from the same hostile text or a few real
keys. Over 2,000 requests per run; none may answer 5xx, and the books must balance.

Hypothesis drives it with a fixed seed and a fixed number of examples, so a CI run is repeatable and
takes seconds. A failing example is printed whole by Hypothesis."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from accounts.selectors import ledger_violations
from orders.api.openapi import spec

pytestmark = pytest.mark.django_db

EXAMPLES = 210  # per operation: 22 operations -> 4,620 requests
HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "²²²",
        "\u0661\u0660\u0660",  # Arabic-Indic 100
        "\uff11\uff10\uff10",  # full-width 100
        "-1",
        "0",
        "99999999999999999999999999",
        "1e3",
        "1,2,,3",
        ",".join(str(i) for i in range(150)),
        "' OR 1=1 --",
        "<script>x</script>",
        "=cmd|' /C calc'!A0",
        "https://",
        "http://127.0.0.1:1/x",
        "\ud800",
        "x" * 5000,
    ]
)
TEXT = st.text(max_size=40)


def _strings(name: str, schema: dict[str, Any], context: dict[str, list[str]]) -> st.SearchStrategy[str]:
    choices: list[st.SearchStrategy[str]] = [HOSTILE, TEXT]
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
        choices.append(st.sampled_from(schema["enum"]))  # documented values half of the time
    if name in context:
        choices.append(st.sampled_from(context[name]))
        choices.append(st.sampled_from(context[name]))
    return st.one_of(choices)


def _form(schema: dict[str, Any], context: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {}
    for name, prop in properties.items():
        value = _strings(name, prop, context)
        fields[name] = value if name in required else st.one_of(st.none(), value)
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _json_value(schema: dict[str, Any], spec_doc: dict[str, Any], name: str, context, depth: int = 0):
    if "$ref" in schema:
        schema = spec_doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    kind = schema.get("type")
    if kind == "object" and depth < 3:
        fields = {key: _json_value(sub, spec_doc, key, context, depth + 1) for key, sub in schema["properties"].items()}
        return st.fixed_dictionaries({}, optional=fields)
    if kind == "array" and depth < 3:
        return st.lists(_json_value(schema["items"], spec_doc, name, context, depth + 1), max_size=4)
    anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.just([]), st.just({}))
    return st.one_of(_strings(name, schema, context), anything)


def _parameters(operation: dict[str, Any], spec_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's parameters, `$ref`s to components/parameters resolved."""
    resolved = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec_doc["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        resolved.append(parameter)
    return resolved


def _headers(operation: dict[str, Any], spec_doc: dict[str, Any]) -> list[str]:
    return [p["name"] for p in _parameters(operation, spec_doc) if p["in"] == "header"]


def _operations(spec_doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, body kind, schema) for every documented operation, path parameters filled in; the
    schema's `x-headers` lists the documented request headers."""
    found = []
    for path, item in spec_doc["paths"].items():
        routes = [{}]
        for parameter in item.get("parameters", []):
            if parameter["in"] == "path":
                routes = [{parameter["name"]: value} for value in parameter["schema"]["enum"]]
        for method in ("get", "post"):
            operation = item.get(method)
            if operation is None:
                continue
            headers = _headers(operation, spec_doc)
            for route in routes:
                concrete = path.format(**route)
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    schema = content["application/json"]["schema"]
                    found.append((method, concrete, "json", {**schema, "x-headers": headers}))
                elif content:
                    schema = content["application/x-www-form-urlencoded"]["schema"]
                    found.append((method, concrete, "form", {**schema, "x-headers": headers}))
                else:
                    params = _parameters(operation, spec_doc)
                    props = {p["name"]: p["schema"] for p in params if p["in"] == "query"}
                    found.append(
                        (method, concrete, "query", {"type": "object", "properties": props, "x-headers": headers})
                    )
    return found


@pytest.fixture
def fuzz_context(api_user, other_user, catalogue, upstream) -> dict[str, list[str]]:
    """Real values to mix in: the caller's key and signature, services, and orders of both resellers."""
    from orders.placement import order_place

    own = order_place(api_user.user, kind="smm", service=catalogue.smm, link="https://x.com/a", quantity=100)
    theirs = order_place(other_user.user, kind="otp", service=catalogue.otp)
    sms = order_place(other_user.user, kind="sms", sms_type="masking", message="Halo", recipients="081234567890")
    own_sms = order_place(api_user.user, kind="sms", sms_type="masking", message="Halo", recipients="081234567891")
    report_ids = [str(sms.recipients.get().pk), str(own_sms.recipients.get().pk)]
    services = [str(s.pk) for s in (catalogue.smm, catalogue.otp, catalogue.prepaid)]
    orders = [str(own.pk), str(theirs.pk), f"{own.pk},{theirs.pk}"]
    return {
        "key": [api_user.key],
        "api_key": [api_user.key],
        "apikey": [api_user.key],
        "sign": [api_user.sign],
        "service": services,
        "id": orders,
        "order": orders,
        "orders": orders,
        "ref_id": orders,
        "refill": orders,
        "refills": orders,
        "quantity": ["100", "5000"],
        "link": ["https://instagram.com/tokoku"],
        "data_no": ["081234567890"],
        "number": ["081234567890", "+6281234567891"],
        "message": ["Kode promo HEMAT50"],
        "callbackurl": ["", "https://toko.example/dlr"],
        "Idempotency-Key": ["retry-1", "retry-2", '"retry-1"'],
        "client_ref": ["retry-1", "INV-7"],
        "clientref": ["retry-1", "INV-7"],
        # masking HTTP: username + key, a number, report ids of both resellers, d-m-Y dates
        "username": [api_user.user.username, other_user.user.username],
        "password": [api_user.key],
        "hp": ["6281234567890", "081234567891"],
        "rpt": report_ids,
        "start": ["01-01-2026", "31-12-2099"],
        "end": ["31-12-2026", "01-01-2000"],
    }


def test_fuzz_every_documented_operation(fuzz_context):
    from django.conf import settings as django_settings

    django_settings.API_RATE_LIMIT = 1_000_000  # the fuzzer is one key: the limit is tested elsewhere
    spec_doc = spec()
    operations = _operations(spec_doc)
    assert {path for _m, path, _k, _s in operations} >= {
        "/api/json.php",
        "/api/v2",
        "/api/prepaid",
        "/api/masking/send.php",
    }
    assert len(operations) * EXAMPLES >= 2000
    client = Client()
    sent: list[int] = []
    server_errors: list[str] = []

    for method, path, kind, schema in operations:
        if kind == "json":
            strategy = st.one_of(
                _json_value(schema, spec_doc, "body", fuzz_context).map(json.dumps),
                st.sampled_from(["", "{", "[" * 5000, '{"apikey": []}', "null", '"x"']),
            )
        else:
            strategy = _form(schema, fuzz_context)
        headers = _form(
            {"properties": {name: {"type": "string"} for name in schema["x-headers"]}}, fuzz_context
        )  # each documented header absent, hostile or a real value

        _probe(client, method, path, kind, st.tuples(strategy, headers), sent, server_errors)
    assert len(sent) >= 2000
    assert server_errors == []
    assert ledger_violations() == []


def _probe(client: Client, method: str, path: str, kind: str, strategy, sent: list, server_errors: list) -> None:
    @seed(20261207)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def probe(drawn) -> None:
        payload, headers = drawn
        # as a WSGI server hands them over: latin-1 text (a lone surrogate cannot be sent at all)
        meta = {
            "HTTP_" + name.upper().replace("-", "_"): value.encode("utf-8", "replace").decode("latin-1")
            for name, value in headers.items()
        }
        if kind == "json":
            body = payload.encode("utf-8", "surrogatepass")
            response = client.generic("POST", path, body, "application/json", **meta)
        else:  # encoded by hand: a lone surrogate goes out as the invalid UTF-8 a real client would send
            encoded = urlencode(payload, encoding="utf-8", errors="surrogatepass")
            if method == "get":
                response = client.generic("GET", path, QUERY_STRING=encoded, **meta)
            else:
                response = client.generic("POST", path, encoded, "application/x-www-form-urlencoded", **meta)
        sent.append(response.status_code)
        if response.status_code >= 500:
            server_errors.append(f"{method.upper()} {path} {payload!r:.300} {headers!r:.100} -> {response.status_code}")

    probe()
