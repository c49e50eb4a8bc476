import json
from pathlib import Path

import pytest
from django.test import Client

from orders.models import CallbackEvent
from providers.services import provider_callback_url

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def path_of(provider) -> str:
    return provider_callback_url(provider).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_rajasms_json_callback_is_recorded_once(client: Client, raja_provider):
    body = (FIXTURES / "rajasms" / "callback_single.json").read_text()
    url = path_of(raja_provider)
    for _ in range(3):  # the gateway retries: still one event
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert (event.external_id, event.state, event.code, event.number) == ("12345788", "delivered", "3", "6281234567890")


def test_masking_get_callback_is_recorded(client: Client, masking_provider):
    params = json.loads((FIXTURES / "masking_http" / "dlr_22.json").read_text())
    response = client.get(path_of(masking_provider), params)
    assert response.status_code == 200
    assert CallbackEvent.objects.get().state == "delivered"


def test_wrong_token_or_provider_is_404(client: Client, raja_provider):
    assert (
        client.post(f"/callbacks/{raja_provider.pk}/{'0' * 40}/", "{}", content_type="application/json").status_code
        == 404
    )
    good = raja_provider.callback_token
    assert client.post(f"/callbacks/99999/{good}/", "{}", content_type="application/json").status_code == 404
    assert not CallbackEvent.objects.exists()


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"sendingid": 1}', '{"number": "62", "deliverystatus": "x"}'])
def test_malformed_payload_is_400(client: Client, raja_provider, body):
    response = client.post(path_of(raja_provider), body, content_type="application/json")
    assert response.status_code == 400
    assert not CallbackEvent.objects.exists()


def test_masking_callback_missing_fields_is_400(client: Client, masking_provider):
    assert client.get(path_of(masking_provider), {"session_id": "1"}).status_code == 400


def test_callback_only_accepts_get_and_post(client: Client, raja_provider):
    assert client.put(path_of(raja_provider), "{}").status_code == 405
