"""SMS gateways' inboxes copied for operators (providers.inbox): the real masking adapter against recorded
inbox.php replies (tests/fixtures/masking_http), idempotent storage, gateway errors, and the admin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
from django.urls import reverse

from providers.inbox import inbox_fetch, inbox_fetch_all
from providers.models import InboxMessage
from providers.tasks import fetch_inboxes
from tests.i18n_check import untranslated_msgids
from tests.providers.adapters.conftest import fixture_text

INBOX = "http://mask.example/masking/inbox.php"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def reply(mocked, name: str | None = None, body: str | None = None) -> None:
    mocked.get(INBOX, body=fixture_text("masking_http", name) if name else body, content_type="text/csv")


def test_fetch_stores_each_message_once(masking_provider, mocked):
    reply(mocked, "inbox.csv")

    first = inbox_fetch(masking_provider)
    again = inbox_fetch(masking_provider)

    assert (first.fetched, first.stored, first.error) == (2, 2, "")
    assert (again.fetched, again.stored) == (2, 0)
    rows = list(InboxMessage.objects.order_by("received_at").values_list("external_id", "number", "text", "key"))
    assert rows == [
        ("5501", "62812345678901", "Ya, saya hadir", "id:5501"),
        ("5502", "6281298765434", "STOP", "id:5502"),
    ]
    assert InboxMessage.objects.get(external_id="5501").received_at == datetime(2025, 3, 1, 3, 20, 11, tzinfo=UTC)
    assert str(first) == "Masking: 2 messages, 2 new"


def test_without_ids_a_message_is_known_by_number_time_and_text(masking_provider, mocked):
    reply(mocked, "inbox_no_id.txt")  # the same message listed twice

    assert inbox_fetch(masking_provider).stored == 1
    assert inbox_fetch(masking_provider).stored == 0
    message = InboxMessage.objects.get()
    assert message.external_id == "" and message.key.startswith("sha256:")

    mocked.replace(
        "GET", INBOX, body="Pengirim;Pesan;Tanggal\n62812345678901;Ya, saya hadir;01-03-2025 10:25:00\n"
    )  # the same words later: another message
    assert inbox_fetch(masking_provider).stored == 1 and InboxMessage.objects.count() == 2


def test_same_id_at_another_provider_is_another_message(masking_provider, mocked, db):
    from providers.services import provider_save

    other, _ = provider_save(
        name="Masking 2", kind="masking_http", base_url="http://mask.example/masking", username="u2", password="p2p2"
    )
    reply(mocked, "inbox.csv")
    assert [r.stored for r in inbox_fetch_all()] == [2, 2]
    assert InboxMessage.objects.filter(provider=other).count() == 2


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("Username atau Password salah", "Username atau Password salah"),
        ("<html>502 Bad Gateway</html>", "HTML page instead of a report"),
        ("id,tanggal,pengirim,pesan\r\n5501,kemarin,62812,YA\r\n", "time: expected d-m-Y H:i:s"),
    ],
)
def test_a_gateway_error_is_reported_and_stores_nothing(masking_provider, mocked, body, error):
    reply(mocked, body=body)

    result = inbox_fetch(masking_provider)

    assert result.stored == 0 and error in result.error and str(result).startswith("Masking: failed: ")
    assert "mask-pass-77" not in result.error
    assert not InboxMessage.objects.exists()


def test_the_task_fetches_every_enabled_gateway(masking_provider, smm_provider, mocked):
    reply(mocked, "inbox_empty.csv")
    assert fetch_inboxes() == "Masking: 0 messages, 0 new"  # the SMM provider has no inbox
    masking_provider.enabled = False
    masking_provider.save()
    assert fetch_inboxes() == "no provider with an inbox"


# --- admin ------------------------------------------------------------------------------------------------
def test_admin_lists_and_searches_the_inbox(client, operator, masking_provider, mocked):
    reply(mocked, "inbox.csv")
    inbox_fetch(masking_provider)
    client.force_login(operator)
    url = reverse("admin:providers_inboxmessage_changelist")
    client.cookies["django_language"] = "id"

    with untranslated_msgids() as misses:
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ya, saya hadir" in html and "STOP" in html and "Masking" in html
    assert "Inbox SMS" in html and "Ambil inbox SMS sekarang" in html
    assert {m for m in misses if not m.endswith(" tasks")} == set()

    by_text = client.get(url, {"q": "STOP"}).content.decode()
    assert "STOP" in by_text and "Ya, saya hadir" not in by_text
    by_number = client.get(url, {"q": "62812345678901"}).content.decode()
    assert "Ya, saya hadir" in by_number and "STOP" not in by_number
    by_provider = client.get(url, {"provider__id__exact": masking_provider.pk})
    assert by_provider.status_code == 200 and "STOP" in by_provider.content.decode()
    message = InboxMessage.objects.first()
    assert client.get(reverse("admin:providers_inboxmessage_change", args=[message.pk])).status_code == 200
    assert client.get(reverse("admin:providers_inboxmessage_add")).status_code == 403


def test_admin_button_and_provider_action_fetch_now(client, operator, masking_provider, smm_provider, mocked):
    reply(mocked, "inbox.csv")
    client.force_login(operator)
    fetch = reverse("admin:providers_inboxmessage_fetch")

    with untranslated_msgids() as misses:
        asked = client.get(fetch)  # asks first, naming the providers it will ask
    assert asked.status_code == 200 and "Masking" in asked.content.decode() and not InboxMessage.objects.exists()
    assert "Inbox SMS provider berikut akan diambil sekarang" in asked.content.decode()
    assert {m for m in misses if not m.endswith(" tasks")} == set()
    response = client.post(fetch, follow=True)
    assert response.status_code == 200 and InboxMessage.objects.count() == 2
    assert "Masking: 2 pesan di inbox, 2 baru." in response.content.decode()

    action = client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "fetch_inbox", "_selected_action": [masking_provider.pk]},
        follow=True,
    )
    assert action.status_code == 200 and InboxMessage.objects.count() == 2  # nothing twice
    only_smm = client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "fetch_inbox", "_selected_action": [smm_provider.pk]},
        follow=True,
    )
    assert only_smm.status_code == 200
    assert "Tidak ada provider terpilih yang punya inbox SMS." in only_smm.content.decode()


def test_resellers_never_see_the_inbox(client, reseller, masking_provider, mocked):
    reply(mocked, "inbox.csv")
    inbox_fetch(masking_provider)
    client.force_login(reseller)
    for url in (reverse("admin:providers_inboxmessage_changelist"), reverse("admin:providers_inboxmessage_fetch")):
        response = client.post(url) if url.endswith("fetch/") else client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
