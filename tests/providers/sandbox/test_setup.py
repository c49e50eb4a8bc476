"""The enable guard, the admin, demo accounts and the generated catalogues."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from providers.sandbox.models import Fault, SandboxAccount, SandboxOrder
from providers.sandbox.protocols import PROTOCOLS
from providers.sandbox.protocols.osimesa import OSIMESA_DEFAULT_SIZE, osimesa_products
from providers.sandbox.protocols.smm_v2 import SMM_DEFAULT_SIZE, smm_services
from providers.sandbox.protocols.virtusim import VIRTUSIM_DEFAULT_SIZE, virtusim_services
from providers.sandbox.services import ensure_demo_accounts, sandbox_base_url

ENDPOINTS = [
    "/sandbox/virtusim/json.php",
    "/sandbox/smm_v2/api",
    "/sandbox/rajasms/sms/api_sms_reguler_send_json.php",
    "/sandbox/rajasms/sms/api_sms_otp_balance_json.php",
    "/sandbox/masking_http/send.php",
    "/sandbox/masking_http/send_post.php",
    "/sandbox/masking_http/report.php",
    "/sandbox/masking_http/balance.php",
    "/sandbox/masking_http/reports_post.php",
    "/sandbox/masking_http/inbox.php",
    "/sandbox/osimesa/api/prepaid",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ENDPOINTS)
def test_disabled_sandbox_is_404_everywhere(client, settings, url):
    settings.SANDBOX_ENABLED = False
    settings.DEBUG = False
    assert client.post(url).status_code == 404
    settings.DEBUG = True
    assert client.post(url).status_code != 404  # the vendor's own reply (some are 401)


@pytest.mark.django_db
def test_endpoints_are_csrf_exempt():
    response = Client(enforce_csrf_checks=True).post("/sandbox/smm_v2/api", {"key": "x", "action": "balance"})
    assert response.json() == {"error": "Invalid API key"}


def test_admin_lists_and_switches_faults(admin_client, make_account):
    account = make_account("smm_v2")
    page = admin_client.get("/admin/sandbox/sandboxaccount/")
    assert page.status_code == 200 and b'name="form-0-fault"' in page.content
    response = admin_client.post(
        "/admin/sandbox/sandboxaccount/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(account.pk),
            "form-0-fault": Fault.HTML502,
            "form-0-fault_scope": "order",
            "form-0-fault_delay_seconds": "3",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.fault, account.fault_scope, account.fault_delay_seconds) == (Fault.HTML502, "order", 3)
    assert admin_client.get(f"/admin/sandbox/sandboxaccount/{account.pk}/change/").status_code == 200


def test_admin_orders_are_read_only(admin_client, make_account):
    account = make_account("smm_v2")
    order = SandboxOrder.objects.create(account=account, external_id="1", cost=Decimal(5))
    assert admin_client.get("/admin/sandbox/sandboxorder/").status_code == 200
    assert admin_client.get(f"/admin/sandbox/sandboxorder/{order.pk}/change/").status_code == 200
    assert admin_client.get("/admin/sandbox/sandboxorder/add/").status_code == 403
    admin_client.post(f"/admin/sandbox/sandboxorder/{order.pk}/change/", {"cost": "1"})
    order.refresh_from_db()
    assert order.cost == Decimal(5)


@pytest.mark.django_db
def test_ensure_demo_accounts_is_idempotent():
    first = ensure_demo_accounts("http://127.0.0.1:8000/", masking_callback_path="/callbacks/masking/")
    assert set(first) == set(PROTOCOLS) == {"virtusim", "smm_v2", "rajasms", "masking_http", "osimesa"}
    assert first["virtusim"].api_key and first["osimesa"].user_id and first["masking_http"].password
    assert first["masking_http"].callback_url == "http://127.0.0.1:8000/callbacks/masking/"
    again = ensure_demo_accounts("http://127.0.0.1:8000")
    assert {k: a.pk for k, a in again.items()} == {k: a.pk for k, a in first.items()}
    assert again["smm_v2"].api_key == first["smm_v2"].api_key
    assert SandboxAccount.objects.count() == len(PROTOCOLS)


def test_base_urls_follow_the_contract():
    root = "http://127.0.0.1:8000/"
    assert sandbox_base_url("virtusim", root) == "http://127.0.0.1:8000/sandbox/virtusim/json.php"
    assert sandbox_base_url("smm_v2", root) == "http://127.0.0.1:8000/sandbox/smm_v2/api"
    assert sandbox_base_url("rajasms", root) == "http://127.0.0.1:8000/sandbox/rajasms"
    assert sandbox_base_url("masking_http", root) == "http://127.0.0.1:8000/sandbox/masking_http"
    assert sandbox_base_url("osimesa", root) == "http://127.0.0.1:8000/sandbox/osimesa/api/prepaid"


@pytest.mark.parametrize(
    ("build", "key", "default"),
    [
        (virtusim_services, "id", VIRTUSIM_DEFAULT_SIZE),
        (smm_services, "service", SMM_DEFAULT_SIZE),
        (osimesa_products, "code", OSIMESA_DEFAULT_SIZE),
    ],
)
def test_catalogues_are_deterministic_with_unique_ids(build, key, default):
    assert build() == build() and len(build()) == default
    big = build(2500)
    assert len(big) == 2500 and len({item[key] for item in big}) == 2500
    assert big[:default] == build()


@pytest.mark.django_db
def test_catalogue_size_is_per_account(client, make_account):
    account = make_account("smm_v2", catalogue_size=500)
    with CaptureQueriesContext(connection) as queries:
        items = client.post("/sandbox/smm_v2/api", {"key": account.api_key, "action": "services"}).json()
    assert len(items) == 500 and len(queries) < 10
