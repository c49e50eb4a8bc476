from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services import reseller_create, wallet_get


@pytest.fixture
def make_reseller(db):
    counter = {"n": 0}

    def make(username: str | None = None, deposit: int | None = None, **kwargs) -> User:
        counter["n"] += 1
        name = username or f"reseller{counter['n']}"
        return reseller_create(username=name, password="pw-" + name + "-Secret1", deposit=deposit, **kwargs)

    return make


@pytest.fixture
def reseller(make_reseller) -> User:
    return make_reseller("budi", deposit=100_000)


@pytest.fixture
def operator(db) -> User:
    user = User.objects.create_superuser("ops", email="ops@example.com", password="ops-Secret-123")
    wallet_get(user)
    return user


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2 at production strength costs ~0.3 s per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
