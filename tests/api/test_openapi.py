"""The machine-readable description at /api/openapi.json names every endpoint the panel serves."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import resolve, reverse
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

pytestmark = pytest.mark.django_db


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value)
            else:
                found |= refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs(item)
    return found


@pytest.fixture
def document(client, settings) -> dict:
    settings.PANEL_PUBLIC_URL = "https://panel.example"
    response = client.get(reverse("api:openapi"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_served_without_a_key_with_this_panels_address(document):
    assert document["openapi"].startswith("3.0")
    assert document["servers"] == [{"url": "https://panel.example"}]


def test_every_path_is_served_by_a_downstream_endpoint(document):
    assert set(document["paths"]) == {
        "/api/json.php",
        "/api/v2",
        "/api/prepaid",
        "/sms/api_sms_{route}_send_json.php",
        "/sms/api_sms_{route}_balance_json.php",
        *(
            f"/api/masking/{script}.php"
            for script in ("send", "send_post", "report", "balance", "reports_post", "inbox")
        ),
    }
    for path in document["paths"]:
        for route in ("reguler", "masking", "otp"):
            match = resolve(path.replace("{route}", route))
            assert getattr(match.func, "is_downstream_api", False), path


def test_references_resolve(document):
    for ref in refs(document):
        match = re.fullmatch(r"#/components/(schemas|parameters|headers)/(\w+)", ref)
        assert match and match[2] in document["components"][match[1]], ref


def test_document_is_valid_openapi(document):
    plain = json.loads(json.dumps(document))
    validate(plain)
    with pytest.raises(OpenAPIValidationError):  # the validator does look: a path without responses is refused
        validate({**plain, "paths": {"/x": {"get": {"summary": "no responses"}}}})


def test_url_names(client):
    assert reverse("api:virtusim") == "/api/json.php"
    assert reverse("api:smm_v2") == "/api/v2"
    assert reverse("api:osimesa") == "/api/prepaid"
    assert reverse("api:rajasms_send", kwargs={"route": "otp"}) == "/sms/api_sms_otp_send_json.php"
    assert reverse("api:rajasms_balance", kwargs={"route": "masking"}) == "/sms/api_sms_masking_balance_json.php"
    assert reverse("api:masking_send") == "/api/masking/send.php"
    assert reverse("api:masking_reports_post") == "/api/masking/reports_post.php"
    assert client.post(reverse("api:openapi")).status_code == 405


def test_order_calls_document_the_idempotency_key_and_the_replay_header(document):
    operations = {
        ("/api/json.php", "get"),
        ("/api/json.php", "post"),
        ("/api/v2", "post"),
        ("/api/prepaid", "post"),
        ("/sms/api_sms_{route}_send_json.php", "post"),
    }
    for path, method in operations:
        operation = document["paths"][path][method]
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"], path
        assert "Idempotent-Replayed" in operation["responses"]["200"]["headers"], path
        assert {"403", "409"} <= set(operation["responses"]), path
    header = document["components"]["parameters"]["IdempotencyKey"]
    assert (header["name"], header["in"], header["schema"]["maxLength"]) == ("Idempotency-Key", "header", 255)
    form = document["paths"]["/api/prepaid"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert "client_ref" in form["schema"]["properties"]
    assert "clientref" in document["components"]["schemas"]["RajasmsSend"]["properties"]
    assert (
        "40 Ip address not register" in document["paths"]["/sms/api_sms_{route}_send_json.php"]["post"]["description"]
    )
    assert "Idempotency-Key" in document["info"]["description"]


def test_masking_replies_are_plain_text_and_its_fields_documented(document):
    """The masking gateway's document names these fields; the description names every field the view reads."""
    fields = {
        "send": {"username", "password", "hp", "message"},
        "send_post": {"username", "password", "hp", "message"},
        "report": {"username", "password", "rpt"},
        "balance": {"username", "password"},
        "reports_post": {"username", "password", "start", "end", "download_report_button"},
        "inbox": {"username", "password"},
    }
    for script, names in fields.items():
        item = document["paths"][f"/api/masking/{script}.php"]
        assert {p["name"] for p in item["get"]["parameters"]} == names, script
        form = item["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert set(form["properties"]) == names, script
        assert "text/plain" in item["get"]["responses"]["200"]["content"], script
    dlr = document["paths"]["/api/masking/send.php"]["get"]["callbacks"]["deliveryReport"]
    (callback,) = dlr.values()
    assert {p["name"] for p in callback["get"]["parameters"]} == {"session_id", "error_code", "error_message", "msisdn"}
