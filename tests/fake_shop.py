"""The providers and the two services that the order and API tests' shops share (both sell through the
programmable fake upstream of tests/orders/fakes.py, so the URLs and keys are never called)."""

from __future__ import annotations

from decimal import Decimal

from providers.adapters.types import ProductKind, ServiceInfo
from providers.models import Provider
from providers.services import provider_save

OTP_WHATSAPP = ServiceInfo("1", "WhatsApp", "OTP", ProductKind.OTP, Decimal("1000"), stock=50)
IG_FOLLOWERS = ServiceInfo(
    "101",
    "IG Followers",
    "Instagram",
    ProductKind.SMM,
    Decimal("10000"),
    min_qty=100,
    max_qty=10000,
    can_refill=True,
    can_cancel=True,
)


def fake_providers(*, masking: bool = False) -> dict[str, Provider]:
    """One provider per kind (the RajaSMS one brings its three SMS routes; masking HTTP on request)."""
    providers = {
        "otp": provider_save(name="OTP", kind="virtusim", base_url="https://otp.example/json.php", api_key="k1k1k1k1"),
        "smm": provider_save(name="SMM", kind="smm_v2", base_url="https://smm.example/api", api_key="k2k2k2k2"),
        "prepaid": provider_save(
            name="Pulsa", kind="osimesa", base_url="https://pulsa.example/api/prepaid", api_key="k3k3k3k3", user_id="77"
        ),
        "rajasms": provider_save(
            name="Raja", kind="rajasms", base_url="https://raja.example", api_key="k4k4k4k4", sms_cost=Decimal("100")
        ),
    }
    if masking:
        providers["masking"] = provider_save(
            name="Mask",
            kind="masking_http",
            base_url="https://mask.example/m",
            username="u",
            password="p4p4p4p4",
            sms_cost=Decimal("120"),
        )
    return {kind: provider for kind, (provider, _created) in providers.items()}
