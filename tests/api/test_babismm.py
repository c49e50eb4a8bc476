"""`/api/v2` driven over real HTTP (`live_server`) by `babismm` (PyPI, imported as `smm`): an off-the-shelf
SMM v2 client nobody here wrote. Behind the panel sits the programmable fake upstream."""

from __future__ import annotations

import pytest
import smm

from accounts.money import ceil_rupiah
from accounts.selectors import balance_of, ledger_violations
from orders.models import Order
from providers.adapters.types import Status
from tests.api.conftest import START

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def client_for(settled_live_server):
    def make(key: str) -> smm.SMM:
        return smm.SMM(f"{settled_live_server.url}/api/v2", key, timeout=10)

    return make


def test_services_add_status_balance_cancel(client_for, api_user, catalogue, upstream):
    with client_for(api_user.key) as panel:
        services = panel.get_services()
        item = next(s for s in services if s["service"] == str(catalogue.smm.pk))
        assert (item["name"], item["min"], item["max"], item["cancel"]) == ("IG Followers", "100", "10000", True)

        placed = panel.add_order(service=item["service"], link="https://instagram.com/tokoku", quantity=1500)
        order = Order.objects.get(pk=int(placed["order"]))
        assert placed["success"] is True and order.user == api_user.user and order.source == "api"
        rate = catalogue.price(catalogue.smm, api_user.user)
        assert order.charge == ceil_rupiah(rate * 1500 / 1000)

        status = panel.get_status(placed["order"])
        assert status == {
            "charge": str(int(order.charge)),
            "start_count": "0",
            "status": "Pending",
            "remains": "1500",
            "currency": "IDR",
        }
        second = panel.add_order(service=item["service"], link="https://instagram.com/lain", quantity=100)
        multi = panel.get_multi_status([placed["order"], second["order"], 987654])
        assert multi[placed["order"]]["status"] == "Pending" and multi[second["order"]]["remains"] == "100"
        assert multi["987654"] == {"error": "Incorrect order ID"}

        balance = panel.get_balance()
        spent = order.charge + Order.objects.get(pk=int(second["order"])).charge
        assert balance == {"balance": f"{START - spent:.2f}", "currency": "IDR"}

        canceled = panel.cancel_orders([int(placed["order"]), 987654])
        assert canceled == [
            {"order": int(placed["order"]), "cancel": 1},
            {"order": 987654, "cancel": {"error": "Incorrect order ID"}},
        ]
    assert upstream.count("cancel") == 1


def test_cancel_confirmed_upstream_refunds_in_full(client_for, api_user, catalogue, upstream):
    with client_for(api_user.key) as panel:
        placed = panel.add_order(service=str(catalogue.smm.pk), link="https://instagram.com/x", quantity=200)
        panel.cancel_orders([placed["order"]])
        upstream.set_status("5000", Status.CANCELED, "Canceled", remains=200)
        Order.objects.filter(pk=placed["order"]).update(updated_at="2000-01-01T00:00:00Z")
        assert panel.get_status(placed["order"])["status"] == "Canceled"
        assert panel.get_balance()["balance"] == f"{START:.2f}"
    assert balance_of(api_user.user) == START and ledger_violations() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda p, s: p.add_order(service="999999", link="https://instagram.com/x", quantity=100),
            "Incorrect service ID",
        ),
        (
            lambda p, s: p.add_order(service=s, link="https://instagram.com/x", quantity=5),
            "Quantity less than minimal 100",
        ),
        (
            lambda p, s: p.add_order(service=s, link="https://instagram.com/x", quantity=10**6),
            "Quantity more than maximal 10000",
        ),
        (lambda p, s: p.add_order(service=s, link="https://instagram.com/x", quantity="banyak"), "Incorrect request"),
        (lambda p, s: p.add_order(service=s, link="bukan link", quantity=100), "Incorrect link"),
        (
            lambda p, s: p.add_order(service=s, link="https://instagram.com/x", quantity=100, runs=3, interval=5),
            "This parameter is not supported",
        ),
        (lambda p, s: p.get_status(123456), "Incorrect order ID"),
        (lambda p, s: p.get_multi_status([]), "Incorrect request"),
        (lambda p, s: p.get_multi_status(range(1, 102)), "Incorrect request"),
        (lambda p, s: p._request("teleport"), "Incorrect request"),
    ],
)
def test_errors_surface_as_smm_api_errors(client_for, api_user, catalogue, upstream, call, message):
    with client_for(api_user.key) as panel, pytest.raises(smm.SMMAPIError) as raised:
        call(panel, str(catalogue.smm.pk))
    assert str(raised.value) == message
    assert not Order.objects.exists() and balance_of(api_user.user) == START


def test_wrong_key_is_an_api_error(client_for, catalogue):
    with client_for("0" * 48) as panel, pytest.raises(smm.SMMAPIError, match="Invalid API key"):
        panel.get_balance()


def test_rate_limit_is_a_network_error_for_the_client(client_for, api_user, catalogue, settings):
    settings.API_RATE_LIMIT = 2
    with client_for(api_user.key) as panel:
        panel.get_balance()
        panel.get_balance()
        with pytest.raises(smm.SMMNetworkError, match="429") as raised:
            panel.get_balance()
    assert raised.value.response.json() == {"error": "Too many requests, slow down"}


def test_insufficient_funds(client_for, make_reseller, catalogue, upstream):
    from accounts.services import apikey_rotate

    poor = make_reseller("miskin", deposit=1000)
    with client_for(apikey_rotate(poor)) as panel, pytest.raises(smm.SMMAPIError, match="Not enough funds on balance"):
        panel.add_order(service=str(catalogue.smm.pk), link="https://instagram.com/x", quantity=10000)
    assert ledger_violations() == []
