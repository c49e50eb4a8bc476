"""A sixth upstream is a plug-in: an adapter class and a sandbox protocol, registered, and nothing else.

The throw-away "toy" protocol (tests/providers/plugin/toy.py) has a credential no built-in protocol
uses. Registered at run time, it is offered in the operator's form (kind and credential), saved without
a migration, set up by the demo, synced, priced and ordered from end to end over real HTTP against its
own simulator.
"""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.urls import clear_url_caches, reverse

from accounts.selectors import balance_of
from orders.placement import order_place
from orders.refresh import refresh_tick
from providers import adapters
from providers.adapters.types import Status
from providers.models import Provider, Service
from providers.pricing import pricing_refresh
from providers.sandbox import protocols
from providers.sandbox.models import SandboxAccount, SandboxOrder
from providers.services import provider_config, provider_save
from providers.sync import catalogue_sync
from tests.orders.sandbox_shop import ensure_default_pricing
from tooling.sandbox_providers import sandbox_providers_ensure

from . import toy


def _reload_urls() -> None:
    """What a restart does for a protocol module dropped into the packages: its addresses are routed."""
    import panel.urls
    import providers.sandbox.urls

    importlib.reload(providers.sandbox.urls)
    importlib.reload(panel.urls)
    clear_url_caches()


@pytest.fixture
def toy_registered():
    with adapters.registered(toy.ToyAdapter), protocols.registered(toy.PROTOCOL):
        _reload_urls()
        yield
    _reload_urls()


@pytest.mark.django_db
def test_the_operator_form_offers_the_new_protocol_and_its_credential(toy_registered, client, operator):
    client.force_login(operator)
    page = client.get(reverse("admin:providers_provider_add")).content.decode()
    assert 'value="toy"' in page and "Toy SMM (test)" in page
    assert 'name="toy_token"' in page and 'type="password"' in page

    response = client.post(
        reverse("admin:providers_provider_add"),
        {
            "name": "Toy",
            "kind": "toy",
            "base_url": "https://toy.example/api",
            "enabled": "on",
            "options": "{}",
            "low_balance_threshold": "0",
            "toy_token": "t0ken-secret-value",
        },
    )

    assert response.status_code == 302, response.content[:3000]
    provider = Provider.objects.get(name="Toy")
    assert "t0ken-secret-value" not in provider.credentials_enc  # encrypted like every credential
    assert provider_config(provider).credentials["toy_token"] == "t0ken-secret-value"


@pytest.mark.django_db
def test_without_registration_the_kind_is_refused(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("admin:providers_provider_add"),
        {"name": "Toy", "kind": "toy", "base_url": "https://toy.example/api", "options": "{}"},
    )
    assert response.status_code == 200 and not Provider.objects.filter(name="Toy").exists()
    with pytest.raises(ValueError, match="unknown provider kind 'toy'"):
        provider_save(name="Toy", kind="toy", base_url="https://toy.example/api")


@pytest.mark.django_db(transaction=True)
def test_sync_price_order_and_refresh_through_the_new_protocol(toy_registered, live_server, settings, make_reseller):
    ensure_default_pricing()
    settings.SANDBOX_ENABLED = True
    settings.PANEL_PUBLIC_URL = live_server.url
    # what `make demo` does: a sandbox account and a provider for every registered protocol
    providers = {p.kind: p for p in sandbox_providers_ensure(live_server.url)}
    assert set(providers) == {"virtusim", "smm_v2", "rajasms", "masking_http", "osimesa", "toy"}
    provider, account = providers["toy"], SandboxAccount.objects.get(kind="toy")
    assert provider.name == "Sandbox Toy" and provider.base_url == f"{live_server.url}/sandbox/toy/api"
    assert provider_config(provider).credentials == {"toy_token": account.api_key}

    assert catalogue_sync(provider).created == 1
    pricing_refresh()
    service = Service.objects.get(provider=provider, external_id="7")
    buyer = make_reseller(deposit=100_000)

    order = order_place(buyer, kind="smm", service=service, link="https://instagram.com/p/toy", quantity=500)

    order.refresh_from_db()
    sandbox_order = SandboxOrder.objects.get(account=account)
    assert order.status == Status.PENDING and order.external_id == f"TOY-{sandbox_order.pk}"
    assert sandbox_order.quantity == 500 and sandbox_order.cost == Decimal("1000")
    assert balance_of(buyer) == Decimal("100000") - order.charge > 0

    refresh_tick([provider.pk])
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.refunded == 0
