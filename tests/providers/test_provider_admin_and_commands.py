from io import StringIO
from pathlib import Path

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from providers.models import Provider, Service
from providers.services import provider_config, provider_save

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(kind: str, name: str) -> str:
    return (FIXTURES / kind / name).read_text()


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- credentials at rest ---------------------------------------------------------------------------
def test_credentials_are_encrypted_at_rest_and_decrypted_for_the_adapter(smm_provider):
    stored = Provider.objects.values_list("credentials_enc", flat=True).get(pk=smm_provider.pk)
    assert "smm-secret-key-123" not in stored
    assert provider_config(smm_provider).api_key == "smm-secret-key-123"


def test_update_without_a_secret_keeps_the_stored_one(smm_provider):
    provider_save(name="SMM Pusat", kind="smm_v2", base_url="https://smm2.example/api")
    smm_provider.refresh_from_db()
    assert provider_config(smm_provider).api_key == "smm-secret-key-123"
    assert smm_provider.base_url == "https://smm2.example/api"


# --- admin -----------------------------------------------------------------------------------------
def test_admin_form_never_shows_credentials(client, operator, smm_provider):
    client.force_login(operator)
    page = client.get(reverse("admin:providers_provider_change", args=[smm_provider.pk])).content.decode()
    assert "smm-secret-key-123" not in page
    assert "Stored; leave empty" in page or "Tersimpan" in page


def test_admin_change_with_empty_secret_keeps_it(client, operator, smm_provider):
    client.force_login(operator)
    response = client.post(
        reverse("admin:providers_provider_change", args=[smm_provider.pk]),
        {
            "name": "SMM Pusat",
            "kind": "smm_v2",
            "base_url": "https://smm.example/api",
            "enabled": "on",
            "options": "{}",
            "low_balance_threshold": "100000",
            "api_key": "",
            "user_id": "",
            "username": "",
            "password": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    smm_provider.refresh_from_db()
    assert provider_config(smm_provider).api_key == "smm-secret-key-123"


@responses.activate
def test_admin_actions_fetch_balance_and_sync(client, operator, smm_provider):
    responses.post(
        "https://smm.example/api",
        body=fixture("smm_v2", "balance.json"),
        match=[responses.matchers.urlencoded_params_matcher({"key": "smm-secret-key-123", "action": "balance"})],
    )
    responses.post(
        "https://smm.example/api",
        body=fixture("smm_v2", "services.json"),
        match=[responses.matchers.urlencoded_params_matcher({"key": "smm-secret-key-123", "action": "services"})],
    )
    client.force_login(operator)
    url = reverse("admin:providers_provider_changelist")
    client.post(url, {"action": "fetch_balance", "_selected_action": [smm_provider.pk]})
    smm_provider.refresh_from_db()
    assert smm_provider.last_balance == 500000
    client.post(url, {"action": "sync_now", "_selected_action": [smm_provider.pk]})
    assert Service.objects.filter(provider=smm_provider).count() >= 2
    client.post(url, {"action": "test_connection", "_selected_action": [smm_provider.pk]})


@responses.activate
def test_admin_action_reports_upstream_failure_without_500(client, operator, smm_provider):
    responses.post("https://smm.example/api", body="<html>502 Bad Gateway</html>", status=502)
    client.force_login(operator)
    response = client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "sync_now", "_selected_action": [smm_provider.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "502" in response.content.decode()
    smm_provider.refresh_from_db()
    assert "502" in smm_provider.last_error


def test_balances_screen_highlights_low_balance(client, operator, smm_provider, raja_provider):
    Provider.objects.filter(pk=smm_provider.pk).update(last_balance=50_000, low_balance_threshold=100_000)
    Provider.objects.filter(pk=raja_provider.pk).update(last_balance=900_000, low_balance_threshold=100_000)
    client.force_login(operator)
    page = client.get(reverse("admin:providers_provider_balances")).content.decode()
    assert page.count('data-low="1"') == 1 and page.count('data-low="0"') == 1
    assert "50.000" in page or "50,000" in page


def test_sms_routes_are_editable_synced_costs_are_not(client, operator, raja_provider, smm_provider):
    route = Service.objects.get(provider=raja_provider, external_id="masking")
    client.force_login(operator)
    page = client.get(reverse("admin:providers_service_change", args=[route.pk])).content.decode()
    assert 'name="cost"' in page


# --- commands --------------------------------------------------------------------------------------
def test_provider_add_creates_then_updates_and_prints_callback_url():
    out, _ = run(
        "provider_add",
        "rajasms",
        "Raja SMS",
        "--url",
        "https://raja.example/",
        "--api-key",
        "k-123456",
        "--sms-cost",
        "300",
    )
    provider = Provider.objects.get(name="Raja SMS")
    assert out.startswith("created provider Raja SMS (rajasms")
    assert f"/callbacks/{provider.pk}/{provider.callback_token}/" in out
    assert provider.base_url == "https://raja.example"
    assert set(Service.objects.filter(provider=provider).values_list("external_id", "cost")) == {
        ("reguler", 300),
        ("masking", 300),
        ("otp", 300),
    }
    out, _ = run("provider_add", "rajasms", "Raja SMS", "--url", "https://raja.example", "--sms-cost", "275")
    assert out.startswith("updated provider Raja SMS")
    assert Provider.objects.count() == 1
    assert provider_config(provider).api_key == "k-123456"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["smm_v2", "X", "--url", "not a url"], "base_url"),
        (["smm_v2", "X", "--url", "https://x.example/api", "--sms-cost", "5"], "SMS gateways"),
        (["masking_http", "X", "--url", "https://x.example", "--sms-cost", "abc"], "not an amount"),
    ],
)
def test_provider_add_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run("provider_add", *args)
    assert not Provider.objects.exists()


@responses.activate
def test_catalogue_sync_reports_each_provider_and_exits_1_if_any_failed(smm_provider):
    provider_save(name="Broken", kind="smm_v2", base_url="https://broken.example/api", api_key="kkkkkkkk")
    responses.post("https://smm.example/api", body=fixture("smm_v2", "services.json"))
    responses.post("https://broken.example/api", body="not json at all")
    with pytest.raises(SystemExit) as exit_info:
        run("catalogue_sync")
    assert exit_info.value.code == 1
    assert Service.objects.filter(provider=smm_provider).exists()  # the healthy one still synced


@responses.activate
def test_catalogue_sync_named(smm_provider):
    responses.post("https://smm.example/api", body=fixture("smm_v2", "services.json"))
    out, _ = run("catalogue_sync", "SMM Pusat")
    assert out.startswith("SMM Pusat: ") and "created" in out
    with pytest.raises(CommandError, match="no provider named Nope"):
        run("catalogue_sync", "Nope")


@responses.activate
def test_provider_balance_prints_each(smm_provider):
    provider_save(name="OTP", kind="virtusim", base_url="https://otp.example/json.php", api_key="kkkkkkkk")
    responses.post("https://smm.example/api", body=fixture("smm_v2", "balance.json"))
    out, _ = run("provider_balance")
    assert "SMM Pusat: 500,000.00 IDR" in out
    assert "OTP: balance not offered" in out


@responses.activate
def test_balance_teaches_the_providers_currency_once(smm_provider):
    from providers.services import provider_config, provider_fetch_balance

    responses.post("https://smm.example/api", body=fixture("smm_v2", "balance.json"))
    responses.post("https://smm.example/api", body=fixture("smm_v2", "balance_usd.json"))
    assert smm_provider.currency == "" and provider_config(smm_provider).currency == ""
    provider_fetch_balance(smm_provider)
    smm_provider.refresh_from_db()
    assert smm_provider.currency == "IDR" and provider_config(smm_provider).currency == "IDR"
    provider_fetch_balance(smm_provider)  # the upstream now says USD: kept IDR, shown to operators
    smm_provider.refresh_from_db()
    assert smm_provider.currency == "IDR"
    assert "USD" in smm_provider.last_error and "IDR" in smm_provider.last_error


@responses.activate
def test_an_operators_currency_is_never_overwritten(smm_provider):
    from providers.services import provider_fetch_balance

    Provider.objects.filter(pk=smm_provider.pk).update(currency="USD")
    smm_provider.refresh_from_db()
    responses.post("https://smm.example/api", body=fixture("smm_v2", "balance_usd.json"))
    provider_fetch_balance(smm_provider)
    smm_provider.refresh_from_db()
    assert (smm_provider.currency, smm_provider.last_error) == ("USD", "")
