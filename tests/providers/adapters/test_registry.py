from __future__ import annotations

import pytest
import requests

from providers.adapters import ADAPTERS, get_adapter, kind_choices
from providers.adapters.base import ProviderAdapter
from providers.adapters.types import ProductKind, Status

from .conftest import make_config

KINDS = ["virtusim", "smm_v2", "rajasms", "masking_http", "osimesa"]


def test_registry_covers_the_five_protocols():
    assert sorted(ADAPTERS) == sorted(KINDS)
    assert sorted(kind for kind, _ in kind_choices()) == sorted(ADAPTERS)
    assert all(title for _, title in kind_choices())


@pytest.mark.parametrize("kind", KINDS)
def test_get_adapter_builds_the_kind_with_the_given_session(kind):
    session = requests.Session()

    adapter = get_adapter(kind, make_config(kind), session=session)

    assert isinstance(adapter, ProviderAdapter) and adapter.kind == kind
    assert adapter.session is session
    assert get_adapter(kind, make_config(kind)).session is not session  # its own session otherwise


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown provider kind 'smm_v1'"):
        get_adapter("smm_v1", make_config("smm_v2"))


@pytest.mark.parametrize(
    ("kind", "product_kind"),
    [
        ("virtusim", ProductKind.OTP),
        ("smm_v2", ProductKind.SMM),
        ("rajasms", ProductKind.SMS),
        ("masking_http", ProductKind.SMS),
        ("osimesa", ProductKind.PREPAID),
    ],
)
def test_declarations(kind, product_kind):
    adapter = ADAPTERS[kind]
    assert adapter.product_kind is product_kind
    assert adapter.capabilities
    assert all(isinstance(status, Status) for status in adapter.status_map.values())
