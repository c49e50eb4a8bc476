"""Masking HTTP failures by who paid (#15, item 3): report.php answers 50 for Saldo Habis, Periode Habis and
No Charge, the DLR names them 50, 51 and 52. None cut the vendor's balance, so the reseller gets each such
recipient's share back: once, however many times and by whichever path (callback, poll, a second settle) the
news arrives. A 50 with a reason the document does not list stays charged. Real adapter parsing (recorded
replies, the callback view), a fake upstream for the send."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import responses
from django.core.management import call_command
from django.test import Client

from accounts.models import LedgerEntry
from accounts.selectors import balance_of, ledger_violations
from accounts.services import wallet_refund
from orders.delivery import callbacks_apply, reports_poll
from orders.models import CallbackEvent, Order, OrderEvent
from orders.placement import order_place
from orders.services import order_transition, sms_settle
from providers.adapters.masking_http import MaskingHttpAdapter
from providers.adapters.types import DeliveryState, PlacedOrder, RecipientResult, Status
from providers.models import Provider, Service
from providers.services import provider_callback_url, provider_config
from tests.orders.fakes import FakeAdapter

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "masking_http"
START = Decimal("1000000.00")
# number -> report id at the gateway
IDS = {
    "6281200000022": "18319001",  # DLR 22 delivered
    "6281200000052": "18319002",  # DLR 52 No Charge
    "6281200000050": "18319003",  # DLR 50 Saldo Habis
    "6281200000051": "18319004",  # report.php "50 Periode Habis"
    "6281200000099": "18319005",  # report.php "50" with no reason: stays charged
}


@pytest.fixture
def masking_first(shop, upstream, monkeypatch):
    """The masking HTTP route first; callbacks parsed by the real adapter."""
    masking = shop.masking_route
    Service.objects.filter(pk=masking.pk).update(route_priority=1)
    Service.objects.filter(provider__kind="rajasms", external_id="masking").update(route_priority=50)
    monkeypatch.setattr(
        FakeAdapter, "parse_callback", lambda self, *a: MaskingHttpAdapter(self.config).parse_callback(*a)
    )
    return masking.provider


def place(buyer, upstream, numbers=tuple(IDS)) -> Order:
    upstream.place.append(
        PlacedOrder(
            IDS[numbers[0]],
            Status.PROCESSING,
            "",
            recipients=tuple(RecipientResult(n, IDS[n], DeliveryState.QUEUED) for n in numbers),
        )
    )
    order = order_place(buyer, kind="sms", sms_type="masking", message="Kode 4821", recipients=" ".join(numbers))
    order.refresh_from_db()
    assert (order.provider.kind, order.status, order.segments) == ("masking_http", "processing", 1)
    return order


def dlr(client: Client, provider: Provider, number: str, code: str, message: str) -> None:
    path = "/" + provider_callback_url(provider).split("://", 1)[1].split("/", 1)[1]
    query = {"session_id": IDS[number], "error_code": code, "error_message": message, "msisdn": number}
    assert client.get(path, query).status_code == 200


def polled(upstream, provider: Provider, replies: dict[str, str]) -> None:
    """What report.php says for each number, parsed by the real adapter, served by the fake upstream."""
    adapter = MaskingHttpAdapter(provider_config(provider))
    with responses.RequestsMock() as mocked:
        for number, body in replies.items():
            mocked.get(
                f"{provider.base_url}/report.php",
                body=body,
                match=[responses.matchers.query_param_matcher({"rpt": IDS[number]}, strict_match=False)],
            )
        for report in adapter.fetch_reports([IDS[n] for n in replies]):
            upstream.reports[report.external_id] = report


def states(order: Order) -> dict[str, tuple[str, str]]:
    return {n: (s, c) for n, s, c in order.recipients.values_list("number", "state", "code")}


def test_each_reason_refunds_exactly_what_the_vendor_did_not_charge(client, masking_first, upstream, buyer, caplog):
    order = place(buyer, upstream)
    share = order.unit_price  # one SMS part per recipient: cost 120 + the default markup
    assert (share, order.charge, balance_of(buyer)) == (Decimal("150"), Decimal("750.00"), Decimal("999250.00"))

    fixture = json.loads((FIXTURES / "dlr_52.json").read_text())
    dlr(client, masking_first, "6281200000022", "22", "Delivered")
    dlr(client, masking_first, "6281200000052", "52", fixture["error_message"])
    dlr(client, masking_first, "6281200000050", "50", "Insufficient Credit Balance")
    order.refresh_from_db()
    assert order.status == "processing"  # two still in flight: nothing refunded yet

    polled(
        upstream,
        masking_first,
        {
            "6281200000051": (FIXTURES / "report_50_periode_habis.txt").read_text(),
            "6281200000099": (FIXTURES / "report_50_bare.txt").read_text(),
        },
    )
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at.replace(year=2020))  # old enough to poll
    assert reports_poll() == 1

    order.refresh_from_db()
    assert states(order) == {
        "6281200000022": ("delivered", "22"),
        "6281200000052": ("rejected", "52"),
        "6281200000050": ("rejected", "50"),
        "6281200000051": ("rejected", "51"),
        "6281200000099": ("failed", "50"),
    }
    # Three recipients the vendor did not charge come back; the delivered one and the unexplained 50 are paid.
    assert (order.status, order.refunded) == ("partial", Decimal("450.00"))
    assert balance_of(buyer) == Decimal("999700.00") == START - 2 * share
    assert list(LedgerEntry.objects.filter(order_id=order.pk).values_list("kind", "amount").order_by("id")) == [
        ("charge", -5 * share),
        ("refund", 3 * share),
    ]
    assert ledger_violations() == []
    call_command("ledger_check")  # exits 1 on a violation

    # The operator sees the provider's own account trouble: on its row and in the log.
    masking_first.refresh_from_db()
    assert masking_first.last_error.startswith("Periode Habis")  # the latest news
    assert f"#{order.pk}" in masking_first.last_error
    assert "Saldo Habis" in caplog.text and "Periode Habis" in caplog.text


def test_callback_and_poll_for_the_same_recipients_refund_once(client, masking_first, upstream, buyer):
    numbers = ("6281200000022", "6281200000052", "6281200000050", "6281200000051")
    order = place(buyer, upstream, numbers)
    share = order.unit_price
    # Both paths hear every outcome: report.php first, then the DLRs, then each again.
    polled(
        upstream,
        masking_first,
        {
            "6281200000022": "22",
            "6281200000052": "50 No Charge",
            "6281200000050": "50 Saldo Habis",
            "6281200000051": "50 Periode Habis",
        },
    )
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at.replace(year=2020))
    assert reports_poll() == 1
    for _ in range(2):
        dlr(client, masking_first, "6281200000022", "22", "Delivered")
        dlr(client, masking_first, "6281200000052", "52", "No Charge")
        dlr(client, masking_first, "6281200000050", "50", "Insufficient Credit Balance")
        dlr(client, masking_first, "6281200000051", "51", "Expiration Period")
        callbacks_apply()
        reports_poll()
    # The same code by either path: a duplicate callback is stored once.
    assert CallbackEvent.objects.filter(provider=masking_first).count() == 4

    order.refresh_from_db()
    assert (order.status, order.refunded) == ("partial", 3 * share)
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == 1
    assert balance_of(buyer) == START - share
    assert OrderEvent.objects.filter(order=order, code="delivery").count() == 1
    assert ledger_violations() == []


def test_a_second_settle_or_refund_pays_nothing(client, masking_first, upstream, buyer):
    """A worker holding a stale copy of the order (a retry, a second cluster) settles it again."""
    order = place(buyer, upstream, ("6281200000052", "6281200000050"))
    stale = Order.objects.get(pk=order.pk)
    dlr(client, masking_first, "6281200000052", "52", "No Charge")
    dlr(client, masking_first, "6281200000050", "50", "Insufficient Credit Balance")
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("failed", order.charge)

    assert sms_settle(order) is False
    assert order_transition(stale, to=Status.FAILED, code="delivery", expected="processing") is False
    # Even past the guarded status update, the ledger's unique refund per order pays nothing more.
    again = wallet_refund(order_id=order.pk, amount=order.charge, reason="retry")
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").get().pk == again.pk
    assert balance_of(buyer) == START
    assert ledger_violations() == []


def test_no_charge_alone_is_not_the_providers_trouble(client, masking_first, upstream, buyer):
    order = place(buyer, upstream, ("6281200000052",))
    dlr(client, masking_first, "6281200000052", "52", "No Charge")
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("failed", order.charge)
    masking_first.refresh_from_db()
    assert masking_first.last_error == ""


def test_periode_habis_by_callback_names_the_expired_balance(client, masking_first, upstream, buyer):
    order = place(buyer, upstream, ("6281200000051",))
    dlr(client, masking_first, "6281200000051", "51", "Expiration Period")
    order.refresh_from_db()
    assert (order.status, order.refunded, states(order)) == (
        "failed",
        order.charge,
        {"6281200000051": ("rejected", "51")},
    )
    masking_first.refresh_from_db()
    assert masking_first.last_error.startswith("Periode Habis")
