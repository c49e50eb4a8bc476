from __future__ import annotations

import pytest

from providers.services import provider_save


@pytest.fixture
def smm_provider(db):
    provider, _ = provider_save(
        name="SMM Pusat", kind="smm_v2", base_url="https://smm.example/api", api_key="smm-secret-key-123"
    )
    return provider


@pytest.fixture
def raja_provider(db):
    provider, _ = provider_save(
        name="Raja", kind="rajasms", base_url="https://raja.example", api_key="raja-secret-key-9"
    )
    return provider


@pytest.fixture
def masking_provider(db):
    provider, _ = provider_save(
        name="Masking",
        kind="masking_http",
        base_url="http://mask.example/masking",
        username="mu",
        password="mask-pass-77",
    )
    return provider
