"""The API page's masking section: the delivery report URL a reseller saves for the masking HTTP API
(the gateway's per-user "Callable API DLR", provider-docs 003), in Indonesian."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey
from accounts.services import apikey_rotate
from tests.i18n_check import untranslated_msgids

pytestmark = pytest.mark.django_db
URL = "https://toko.example/sms/delivreq.php?token=rahasia"
# The language menu looks its names up already in their own language (name_local): not English left over.
LANGUAGE_NAMES = {"Bahasa Indonesia", "Inggris"}


@pytest.fixture
def keyed(client: Client, rich):
    apikey_rotate(rich)
    client.force_login(rich)
    return client


def saved(user) -> str:
    return ApiKey.objects.get(user=user).masking_callback_url


def test_the_page_explains_the_masking_api_in_indonesian(keyed, rich, settings):
    settings.PANEL_PUBLIC_URL = "https://panel.example.id"
    with untranslated_msgids() as misses:
        page = keyed.get(reverse("api_key")).content.decode()
    assert not misses - LANGUAGE_NAMES, misses
    assert "https://panel.example.id/api/masking/send.php" in page and f"USER='{rich.username}'" in page
    assert "SMS masking (kompatibel gateway HTTP)" in page and "Laporan pengiriman" in page
    assert 'data-testid="masking-callback-form"' in page and "Simpan alamat" in page
    assert "inbox.php selalu menjawab daftar kosong" in page


def test_saving_and_clearing_the_url(keyed, rich):
    response = keyed.post(reverse("api_masking_callback"), {"url": f"  {URL} "})
    assert response.status_code == 302 and response["Location"] == reverse("api_key") + "#masking"
    assert saved(rich) == URL
    page = keyed.get(response["Location"]).content.decode()
    assert "laporan pengiriman SMS masking Anda dikirim ke alamat ini" in page
    assert 'value="https://toko.example/sms/delivreq.php?token=rahasia"' in page  # shown back in the form

    apikey_rotate(rich)  # a new key keeps the address
    assert saved(rich) == URL
    keyed.post(reverse("api_masking_callback"), {"url": ""})
    assert saved(rich) == ""


@pytest.mark.parametrize(
    "url, error",
    [
        ("ftp://toko.example/dlr", "Masukkan alamat lengkap yang diawali http:// atau https://."),
        ("toko.example/dlr", "Masukkan alamat lengkap yang diawali http:// atau https://."),
        ("https://toko.example/dl r", "Masukkan alamat lengkap yang diawali http:// atau https://."),
        ("https://toko.example:99999/dlr", "Masukkan alamat lengkap yang diawali http:// atau https://."),
        ("https://user:pw@toko.example/dlr", "Alamat tidak boleh berisi nama pengguna atau sandi."),
        ("http://127.0.0.1/dlr", "Alamat harus dapat dijangkau dari internet."),
        ("http://localhost:8000/dlr", "Alamat harus dapat dijangkau dari internet."),
        ("http://169.254.169.254/latest/meta-data", "Alamat harus dapat dijangkau dari internet."),
        ("http://[::ffff:10.0.0.1]/dlr", "Alamat harus dapat dijangkau dari internet."),
        ("https://" + "a" * 500 + ".example/", None),  # longer than 500 characters: Django's own message
    ],
)
def test_bad_urls_are_refused_on_the_form(keyed, rich, settings, url, error):
    settings.SANDBOX_ENABLED, settings.DEBUG = False, False
    with untranslated_msgids() as misses:
        response = keyed.post(reverse("api_masking_callback"), {"url": url})
    assert response.status_code == 400 and saved(rich) == ""
    page = response.content.decode()
    assert 'class="field has-error"' in page and (error is None or error in page), url
    assert not misses - LANGUAGE_NAMES, misses


def test_without_a_key_there_is_nothing_to_save_to(client, rich):
    client.force_login(rich)
    page = client.get(reverse("api_key")).content.decode()
    assert 'data-testid="masking-callback-form"' not in page and "Buat kunci API terlebih dahulu." in page
    response = client.post(reverse("api_masking_callback"), {"url": URL}, follow=True)
    assert "Buat kunci API terlebih dahulu." in response.content.decode()
    assert not ApiKey.objects.filter(user=rich).exists()


def test_only_a_logged_in_reseller_and_only_post(client, rich):
    assert client.post(reverse("api_masking_callback"), {"url": URL}).status_code == 302  # to the login page
    client.force_login(rich)
    assert client.get(reverse("api_masking_callback")).status_code == 405
