"""Demo providers: one sandbox provider of each registered protocol, pointed at this panel's own /sandbox/."""

from __future__ import annotations

from providers.adapters import ADAPTERS
from providers.models import Provider
from providers.sandbox.protocols import PROTOCOLS
from providers.sandbox.services import ensure_demo_accounts, sandbox_base_url
from providers.services import provider_callback_url, provider_save


def sandbox_providers_ensure(root_url: str) -> list[Provider]:
    """Create (or refresh) the sandbox accounts and a Provider for each. Safe to run again."""
    accounts = ensure_demo_accounts(root_url)
    providers = []
    for kind, protocol in PROTOCOLS.items():
        if kind not in ADAPTERS:
            continue  # a simulator without an adapter: nothing in the panel could speak to it
        account = accounts[kind]
        provider, _created = provider_save(
            name=protocol.demo_provider,
            kind=kind,
            base_url=sandbox_base_url(kind, root_url),
            credentials=protocol.provider_credentials(account),
        )
        providers.append(provider)
        if protocol.registered_callback:
            # This gateway calls back a URL registered with it out of band: register ours.
            account.callback_url = provider_callback_url(provider)
            account.save(update_fields=["callback_url"])
    return providers
