"""RajaSMS-compatible `/sms/api_sms_{route}_send_json.php` and `..._balance_json.php`: per-packet results,
one order per distinct message, the documented global and sending codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from accounts.selectors import balance_of, ledger_violations
from accounts.services import apikey_rotate
from orders.models import Order
from orders.quotes import WIB
from providers.adapters.errors import ProviderRejected
from providers.adapters.types import DeliveryState, PlacedOrder, RecipientResult, Status
from providers.models import Service
from tests.api.conftest import START

pytestmark = pytest.mark.django_db
MESSAGE = "Kode promo Anda: HEMAT50"


def send(api, who, packets, route="reguler", **extra):
    return api.raja(route, {"apikey": who.key, "callbackurl": "", "datapacket": packets, **extra})


def glob(response, code: int, text: str, key: str = "sending_respon", status: int = 200) -> None:
    assert response.status_code == status
    assert response.json() == {key: [{"globalstatus": code, "globalstatustext": text}]}


def test_send_answers_each_packet_in_request_order(api, api_user, catalogue, upstream):
    packets = [
        {"number": "081234567890", "message": MESSAGE, "sendingdatetime": ""},
        {"number": "+6281311112222", "message": MESSAGE, "sendingdatetime": ""},
        {"number": 6281511114444, "message": MESSAGE},
    ]
    reply = api.packets(send(api, api_user, packets))
    order = Order.objects.get()
    recipients = {r.number: r for r in order.recipients.all()}
    assert set(recipients) == {"6281234567890", "6281311112222", "6281511114444"}
    price = catalogue.price(catalogue.raja_routes["reguler"], api_user.user)
    assert [(p["number"], p["sendingstatus"], p["sendingstatustext"]) for p in reply] == [
        ("6281234567890", 10, "success"),
        ("6281311112222", 10, "success"),
        ("6281511114444", 10, "success"),
    ]
    assert [p["sendingid"] for p in reply] == [recipients[p["number"]].pk for p in reply]
    assert [p["price"] for p in reply] == [int(price)] * 3
    assert (order.kind, order.source, order.message, order.status) == ("sms", "api", MESSAGE, "processing")
    assert order.charge == price * 3 and balance_of(api_user.user) == START - order.charge
    request = upstream.calls[0][2]
    assert request.service_id == "reguler" and len(request.recipients) == 3


@pytest.mark.parametrize(
    "bad, code",
    [
        ({"number": "12345", "message": MESSAGE}, (60, "Invalid Number")),
        ({"number": "0812\x003456789", "message": MESSAGE}, (60, "Invalid Number")),
        ({"number": "081234567899", "message": ""}, (70, "Invalid Message")),
        ({"number": "081234567899", "message": "Halo\x00dunia"}, (70, "Invalid Message")),
        ({"number": "081234567899", "message": "x" * 481}, (70, "Invalid Message")),
        ({"number": "081234567890", "message": "satu"}, (90, "Duplicate message")),
    ],
)
def test_one_invalid_packet_refuses_the_whole_send(api, api_user, catalogue, upstream, bad, code):
    """All or nothing: a client that retries a partly refused send must not pay twice for the good part."""
    packets = [
        {"number": "081234567890", "message": "satu"},
        {"number": "081234567891", "message": "dua"},  # another text: another packet of the same send
        bad,
    ]
    response = send(api, api_user, packets)
    respon = response.json()["sending_respon"][0]
    assert (response.status_code, respon["globalstatus"], respon["globalstatustext"]) == (200, 20, "Json Post Error")
    statuses = [(p["packet"]["sendingstatus"], p["packet"]["sendingstatustext"]) for p in respon["datapacket"]]
    assert statuses == [(90, "Not sent: the request has invalid packets")] * 2 + [code]
    assert {p["packet"]["sendingid"] for p in respon["datapacket"]} == {0}
    assert not Order.objects.exists() and balance_of(api_user.user) == START and upstream.calls == []
    assert ledger_violations() == []


def test_price_counts_message_parts(api, api_user, catalogue, upstream):
    reply = api.packets(send(api, api_user, [{"number": "081234567890", "message": "x" * 200}], route="otp"))
    price = catalogue.price(catalogue.raja_routes["otp"], api_user.user)
    assert reply[0]["price"] == int(price * 2)
    assert Order.objects.get().segments == 2


def test_distinct_messages_share_one_order_and_one_upstream_send(api, api_user, catalogue, upstream):
    packets = [
        {"number": "081234567890", "message": "satu"},
        {"number": "081234567891", "message": "dua " + "x" * 200},  # two parts
        {"number": "081234567890", "message": "tiga"},  # the same number with another text
    ]
    reply = api.packets(send(api, api_user, packets, route="masking"))
    price = catalogue.price(catalogue.raja_routes["masking"], api_user.user)
    one = int(price)
    assert [(p["sendingstatus"], p["price"]) for p in reply] == [(10, one), (10, 2 * one), (10, one)]
    order = Order.objects.get()
    rows = list(order.recipients.order_by("pk").values_list("number", "message", "segments"))
    long_text = "dua " + "x" * 200
    assert rows == [("6281234567890", "satu", 1), ("6281234567891", long_text, 2), ("6281234567890", "tiga", 1)]
    assert order.quantity == 4 and order.charge == price * 4
    assert upstream.count("place") == 1
    request = upstream.calls[0][2]
    assert request.messages == ("satu", "dua " + "x" * 200, "tiga")


def test_schedule_in_wib(api, api_user, catalogue, upstream):
    when = (datetime.now(WIB) + timedelta(days=1)).replace(microsecond=0)
    packets = [
        {"number": "081234567890", "message": MESSAGE, "sendingdatetime": when.strftime("%Y-%m-%d %H:%M:%S")},
        {"number": "081234567892", "message": MESSAGE, "sendingdatetime": "besok pagi"},  # unreadable: now
    ]
    reply = api.packets(send(api, api_user, packets))
    assert [p["sendingstatus"] for p in reply] == [10, 10]
    scheduled, now = Order.objects.order_by("pk")
    assert scheduled.schedule_at == when and now.schedule_at is None
    far = datetime.now(WIB) + timedelta(days=45)
    packets = [{"number": "081234567891", "message": MESSAGE, "sendingdatetime": far.strftime("%Y-%m-%d %H-%M-%S")}]
    respon = send(api, api_user, packets).json()["sending_respon"][0]
    assert respon["globalstatus"] == 20
    assert respon["datapacket"][0]["packet"]["sendingstatustext"] == "Invalid sendingdatetime"
    assert Order.objects.count() == 2


def test_callbackurl_is_kept_on_the_order(api, api_user, catalogue, upstream):
    url = "https://toko.example/dlr?x=1"
    api.packets(
        api.raja(
            "reguler",
            {
                "apikey": api_user.key,
                "callbackurl": url,
                "datapacket": [{"number": "081234567890", "message": MESSAGE}],
            },
        )
    )
    assert Order.objects.get().client_callback_url == url


@pytest.mark.parametrize("url", ["ftp://toko.example/dlr", "toko.example/dlr", 42, ["https://a.example"]])
def test_unusable_callbackurl_is_a_json_post_error(api, api_user, catalogue, upstream, url):
    body = {"apikey": api_user.key, "callbackurl": url, "datapacket": [{"number": "081234567890", "message": MESSAGE}]}
    glob(api.raja("reguler", body), 20, "Json Post Error")
    assert not Order.objects.exists()


def test_insufficient_balance_is_minimum_balance(api, make_reseller, catalogue, upstream):
    from tests.api.conftest import Reseller

    poor = make_reseller("miskin", deposit=50)
    who = Reseller(poor, apikey_rotate(poor))
    reply = api.packets(send(api, who, [{"number": "081234567890", "message": MESSAGE}]))
    assert (reply[0]["sendingstatus"], reply[0]["sendingstatustext"], reply[0]["sendingid"]) == (
        80,
        "Minimum Balance",
        0,
    )
    assert not Order.objects.exists() and balance_of(poor) == 50


def test_packets_the_upstream_rejects_are_not_charged(api, api_user, catalogue, upstream):
    def partly(request):
        first, second = request.recipients
        return PlacedOrder(
            external_id="9",
            status=Status.PROCESSING,
            raw_status="Success",
            recipients=(
                RecipientResult(first, "9", DeliveryState.QUEUED, "10"),
                RecipientResult(second, "", DeliveryState.REJECTED, "60", "Invalid Number"),
            ),
        )

    upstream.place.append(partly)
    reply = api.packets(
        send(
            api,
            api_user,
            [{"number": "081234567890", "message": MESSAGE}, {"number": "081234567891", "message": MESSAGE}],
        )
    )
    # Accepted before the gateway saw them; the refused packet is settled (and refunded) once all are final.
    assert [p["sendingstatus"] for p in reply] == [10, 10]
    order = Order.objects.get()
    rejected = order.recipients.get(number="6281234567891")
    assert (rejected.state, rejected.code) == ("rejected", "60")
    order.recipients.exclude(pk=rejected.pk).update(state="delivered")
    from orders.services import sms_settle

    assert sms_settle(order)
    order.refresh_from_db()
    assert order.status == "partial" and order.refunded == order.charge / 2
    assert balance_of(api_user.user) == START - order.charge + order.refunded and ledger_violations() == []


def test_every_route_refusing_fails_and_refunds_after_acceptance(api, api_user, catalogue, upstream):
    upstream.place.append(ProviderRejected("Minimum Balance"))
    reply = api.packets(send(api, api_user, [{"number": "081234567890", "message": MESSAGE}]))
    assert reply[0]["sendingstatus"] == 10  # accepted; the worker's send is what the gateway refused
    order = Order.objects.get()
    assert order.status == "failed" and balance_of(api_user.user) == START and ledger_violations() == []


def test_a_type_without_routes_is_system_error(api, api_user, catalogue, upstream):
    Service.objects.filter(pk=catalogue.raja_routes["otp"].pk).update(is_enabled=False)
    reply = api.packets(send(api, api_user, [{"number": "081234567890", "message": MESSAGE}], route="otp"))
    assert reply[0]["sendingstatus"] == 90 and not Order.objects.exists()


def test_more_than_1000_packets_is_maximum_data(api, api_user, catalogue, upstream):
    packets = [{"number": f"0812{i:08d}", "message": MESSAGE} for i in range(1001)]
    glob(send(api, api_user, packets), 55, "Maximum Data")
    assert not Order.objects.exists()


@pytest.mark.worker_stopped
def test_1000_distinct_messages_are_one_order_sent_in_one_gateway_request(api, api_user, catalogue, upstream):
    packets = [{"number": f"0812{i:08d}", "message": f"Pesan {i} untuk Anda"} for i in range(1000)]
    reply = api.packets(send(api, api_user, packets))
    assert len(reply) == 1000 and {p["sendingstatus"] for p in reply} == {10}
    assert upstream.calls == []  # answered before the gateway is asked
    order = Order.objects.get()
    assert order.status == "submitting" and order.recipients.count() == 1000
    from orders.submitter import submit_pending

    submit_pending()
    assert upstream.count("place") == 1
    request = upstream.calls[0][2]
    assert len(request.recipients) == 1000 and request.messages[999] == "Pesan 999 untuk Anda"
    assert ledger_violations() == []


def test_1000_packets_are_fine(api, api_user, catalogue, upstream):
    packets = [{"number": f"0812{i:08d}", "message": "x" * 480} for i in range(1000)]
    reply = api.packets(send(api, api_user, packets))
    assert len(reply) == 1000 and {p["sendingstatus"] for p in reply} == {10}
    assert Order.objects.get().recipients.count() == 1000


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b"",
        b'{"apikey": 12345678901234567890, "datapacket": []}',
        "\xff".encode("latin-1"),
    ],
)
def test_json_post_errors(api, api_user, body):
    glob(api.raja("reguler", None, raw=body), 20, "Json Post Error")


@pytest.mark.parametrize("packets", [None, [], "081234567890", [["081234567890", "x"]], {"number": "0812"}])
def test_wrong_typed_datapacket(api, api_user, catalogue, packets):
    glob(send(api, api_user, packets), 20, "Json Post Error")


def test_wrong_or_missing_key(api, catalogue):
    glob(
        api.raja("reguler", {"apikey": "salah" * 5, "datapacket": [{"number": "0812", "message": "x"}]}),
        30,
        "ApiKey not register",
    )
    glob(api.raja("reguler", {"datapacket": []}), 30, "ApiKey not register")
    glob(api.raja("masking", {"apikey": "salah" * 5}, action="balance"), 30, "ApiKey not register", "balance_respon")


def test_unknown_route_is_not_served(api, api_user):
    assert api.raja("premium", {"apikey": api_user.key}).status_code == 404


def test_balance_on_every_route(api, api_user, catalogue, upstream):
    for route in ("reguler", "masking", "otp"):
        reply = api.raja(route, {"apikey": api_user.key}, action="balance").json()
        assert reply == {
            "balance_respon": [
                {"globalstatus": 10, "globalstatustext": "Success", "Balance": 1000000, "Expired": "2099-12-31"}
            ]
        }
    api.packets(send(api, api_user, [{"number": "081234567890", "message": MESSAGE}]))
    balance = api.raja("reguler", {"apikey": api_user.key}, action="balance").json()["balance_respon"][0]["Balance"]
    assert Decimal(str(balance)) == balance_of(api_user.user)
    glob(api.raja("reguler", None, raw=b"nope", action="balance"), 20, "Json Post Error", "balance_respon")


def test_get_is_refused_in_the_protocols_form(api):
    response = api.client.get("/sms/api_sms_reguler_send_json.php")
    glob(response, 20, "Json Post Error", status=405)
