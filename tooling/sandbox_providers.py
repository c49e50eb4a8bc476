"""Demo providers: one sandbox provider of each protocol, pointed at this panel's own /sandbox/."""

from __future__ import annotations

from providers.models import Provider
from providers.sandbox.services import ensure_demo_accounts, sandbox_base_url
from providers.services import provider_callback_url, provider_save

DEMO_NAMES = {
    "virtusim": "Sandbox VirtuSIM",
    "smm_v2": "Sandbox SMM",
    "rajasms": "Sandbox RajaSMS",
    "masking_http": "Sandbox Masking",
    "osimesa": "Sandbox Osimesa",
}


def sandbox_providers_ensure(root_url: str) -> list[Provider]:
    """Create (or refresh) the sandbox accounts and a Provider for each. Safe to run again."""
    accounts = ensure_demo_accounts(root_url)
    providers = []
    for kind, name in DEMO_NAMES.items():
        account = accounts[kind]
        provider, _created = provider_save(
            name=name,
            kind=kind,
            base_url=sandbox_base_url(kind, root_url),
            api_key=account.api_key or None,
            user_id=account.user_id or None,
            username=account.username or None,
            password=account.password or None,
        )
        providers.append(provider)
        if kind == "masking_http":
            # The masking gateway calls back a URL registered with it out of band: register ours.
            account.callback_url = provider_callback_url(provider)
            account.save(update_fields=["callback_url"])
    return providers
