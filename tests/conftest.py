from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services import reseller_create, wallet_get
from providers.services import provider_save


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


# --- providers (no network: tests mock HTTP with `responses` or use the sandbox) ------------------
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


@pytest.fixture(autouse=True)
def _no_sandbox_timer_outlives_its_test():
    # A delivery-report timer armed by one test must not fire into the next one's database.
    yield
    from providers.sandbox import dlr

    dlr.cancel_pending()


@pytest.fixture(autouse=True)
def _worker_inline(request, monkeypatch):
    """The worker's stand-in: an accepted order is sent, and a stored delivery report applied, at once in
    the caller's thread (the same services the worker runs, seeing the test's uncommitted data). Tests of
    the queue itself are marked `worker_stopped` and see orders wait as they do in production."""
    if not request.node.get_closest_marker("worker_stopped"):
        worker_inline(monkeypatch)


def worker_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the worker's stand-in (for module-scoped fixtures, which run before the autouse one)."""
    from orders.delivery import callbacks_apply
    from orders.submission import orders_submit_now

    monkeypatch.setattr("orders.submission.submission_requested", orders_submit_now)
    monkeypatch.setattr("orders.services_callbacks.callbacks_requested", callbacks_apply)


@pytest.fixture(autouse=True)
def _fresh_provider_guards():
    """Bulkheads and breakers are per process: one test's failing provider must not trip the next test."""
    from providers.adapters.guard import reset_guards

    reset_guards()
    yield
    reset_guards()
