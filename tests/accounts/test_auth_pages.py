import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_dashboard_needs_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_login_page_is_indonesian_by_default_and_english_on_request(client):
    page = client.get(reverse("login")).content.decode()
    assert 'lang="id"' in page and "Masuk" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in page and "Log in" in page


def test_login_and_dashboard_show_balance(client, reseller):
    response = client.post(reverse("login"), {"username": "budi", "password": "pw-budi-Secret1"})
    assert response.status_code == 302
    page = client.get(reverse("dashboard")).content.decode()
    assert "Rp 100.000" in page


def test_login_requires_csrf_token(reseller):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "budi", "password": "pw-budi-Secret1"})
    assert response.status_code == 403


def test_lockout_after_repeated_failures_even_with_right_password(client, reseller, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "budi", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(reverse("login"), {"username": "budi", "password": "wrong"}).status_code == 429
    response = client.post(reverse("login"), {"username": "budi", "password": "pw-budi-Secret1"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "Terlalu banyak" in page  # the Indonesian locked-out message
    assert "_auth_user_id" not in client.session


def test_lockout_covers_admin_login(client, operator, settings):
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "ops", "password": "nope"})
    response = client.post(url, {"username": "ops", "password": "ops-Secret-123"})
    assert response.status_code == 429


def test_password_change(client, reseller):
    client.force_login(reseller)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-budi-Secret1", "new_password1": "Baru-sekali-77", "new_password2": "Baru-sekali-77"},
    )
    assert response.status_code == 302
    reseller.refresh_from_db()
    assert reseller.check_password("Baru-sekali-77")


def test_logout_is_post_only(client, reseller):
    client.force_login(reseller)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


# --- the lockout policy: per (client address, username), 15 minutes, never for everyone -------------------
def _login(address: str, password: str, via_proxy: bool = False) -> int:
    client = Client(REMOTE_ADDR="10.0.0.5" if via_proxy else address)
    extra = {"HTTP_X_FORWARDED_FOR": address} if via_proxy else {}
    return client.post(reverse("login"), {"username": "budi", "password": password}, **extra).status_code


@pytest.mark.parametrize("via_proxy", [False, True])
def test_an_attacker_locks_out_only_their_own_address(reseller, settings, via_proxy):
    """Five wrong passwords for budi from the attacker's address lock that address (for budi) out, even with
    the right password; budi from anywhere else, behind the same TLS proxy too, logs in as usual."""
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login("203.0.113.7", "wrong", via_proxy)
    assert _login("203.0.113.7", "pw-budi-Secret1", via_proxy) == 429
    assert _login("198.51.100.9", "pw-budi-Secret1", via_proxy) == 302


def test_a_made_up_forwarded_address_does_not_escape_the_lockout(reseller, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]  # the attacker is not the proxy: its header is ignored
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR="203.0.113.7").post(
            reverse("login"), {"username": "budi", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"
        )
    assert _login("203.0.113.7", "pw-budi-Secret1") == 429


def test_the_lockout_ends_after_the_cool_off(reseller, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login("203.0.113.7", "wrong")
    assert _login("203.0.113.7", "pw-budi-Secret1") == 429
    # AXES_COOLOFF_TIME later (15 minutes by default) the attempts no longer count.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _login("203.0.113.7", "pw-budi-Secret1") == 302
