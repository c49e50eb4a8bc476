import pytest
from django.test import Client
from django.urls import reverse

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
