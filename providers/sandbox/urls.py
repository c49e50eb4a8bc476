"""Sandbox addresses (docs/upstream-contract.md, "Addresses"); included at `sandbox/`. Each simulated
vendor's module lists its own (providers.sandbox.protocols)."""

from .protocols import PROTOCOLS

app_name = "sandbox"

urlpatterns = [pattern for protocol in PROTOCOLS.values() for pattern in protocol.urls]
