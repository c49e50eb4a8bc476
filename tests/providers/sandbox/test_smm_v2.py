from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from providers.sandbox.models import SandboxOrder, SandboxRefill
from providers.sandbox.protocols.smm_v2 import SMM_DEFAULT_SIZE, smm_services
from tests.providers.sandbox.helpers import balance_of, rewind

URL = "/sandbox/smm_v2/api"
STEP = 15


@pytest.fixture
def account(make_account):
    return make_account("smm_v2", smm_step_seconds=STEP, balance=Decimal("500000"))


def call(client, account, **data):
    return client.post(URL, {"key": account.api_key, **data}).json()


def service(refill: bool | None = None, cancel: bool | None = None) -> dict:
    return next(
        s
        for s in smm_services()
        if (refill is None or s["refill"] is refill) and (cancel is None or s["cancel"] is cancel)
    )


def add(client, account, link: str = "https://instagram.com/budi", quantity: int | None = None, item=None):
    item = item or service()
    return call(client, account, action="add", service=item["service"], link=link, quantity=quantity or item["min"])


def test_services_shape(client, account):
    items = call(client, account, action="services")
    assert len(items) == SMM_DEFAULT_SIZE
    assert {i["category"] for i in items} == {"Instagram", "TikTok", "YouTube", "Facebook", "Twitter"}
    first = items[0]
    assert set(first) == {"service", "name", "category", "type", "rate", "min", "max", "refill", "cancel"}
    assert all(isinstance(first[k], str) for k in ("service", "rate", "min", "max"))
    assert isinstance(first["refill"], bool) and isinstance(first["cancel"], bool)
    assert any(not i["service"].isdigit() for i in items)  # some non-numeric ids
    assert any(i["refill"] for i in items) and any(i["cancel"] for i in items)


def test_bearer_header_and_bad_key(client, account):
    response = client.post(URL, {"action": "balance"}, HTTP_AUTHORIZATION=f"Bearer {account.api_key}")
    assert response.json() == {"balance": "500000.00", "currency": "IDR"}
    assert client.post(URL, {"key": "nope", "action": "balance"}).json() == {"error": "Invalid API key"}
    assert call(client, account, action="explode") == {"error": "Incorrect request"}


def test_add_charges_per_1000_and_progresses_to_completed(client, account):
    item = service()
    quantity = int(item["min"]) * 10
    body = add(client, account, quantity=quantity, item=item)
    assert body["success"] is True and isinstance(body["order"], str)
    charge = (Decimal(item["rate"]) * quantity / 1000).quantize(Decimal("0.01"))
    assert balance_of(account) == Decimal("500000") - charge

    status = call(client, account, action="status", order=body["order"])
    assert status == {
        "charge": status["charge"],
        "start_count": "0",
        "status": "Pending",
        "remains": str(quantity),
        "currency": "IDR",
    }
    assert Decimal(status["charge"]) == charge
    rewind(STEP + 5, account=account)
    running = call(client, account, action="status", order=body["order"])
    assert running["status"] == "In progress" and int(running["start_count"]) > 0
    assert 0 < int(running["remains"]) <= quantity
    rewind(STEP, account=account)
    done = call(client, account, action="status", order=body["order"])
    assert (done["status"], done["remains"]) == ("Completed", "0")
    assert done["start_count"] == running["start_count"]
    assert balance_of(account) == Decimal("500000") - charge


@pytest.mark.parametrize(
    ("keyword", "final", "remains"),
    [("partial", "Partial", 100), ("cancel", "Canceled", 300), ("error", "Error", 300), ("refund", "Refunded", 300)],
)
def test_link_keywords_decide_the_end_and_refund(client, account, keyword, final, remains):
    item = next(s for s in smm_services() if "." not in s["rate"] and int(s["min"]) == 100)
    order_id = add(client, account, link=f"https://tiktok.com/@{keyword}", quantity=300, item=item)["order"]
    rewind(2 * STEP, account=account)
    status = call(client, account, action="status", order=order_id)
    assert status["status"] == final
    assert status["remains"] == str(remains)
    charge = Decimal(item["rate"]) * 300 / 1000
    refund = Decimal(item["rate"]) * remains / 1000
    assert balance_of(account) == (Decimal("500000") - charge + refund).quantize(Decimal("0.01"))


def test_add_errors(client, make_account):
    account = make_account("smm_v2", balance=Decimal("1"))
    item = service()
    assert add(client, account, item={"service": "nope", "min": 100}) == {"error": "Incorrect service ID"}
    assert add(client, account, link="", item=item) == {"error": "Incorrect link"}
    assert add(client, account, quantity=int(item["min"]) - 1, item=item) == {
        "error": f"Quantity less than minimal {item['min']}"
    }
    assert add(client, account, quantity=int(item["max"]) + 1, item=item) == {
        "error": f"Quantity more than maximal {item['max']}"
    }
    assert add(client, account, item=item) == {"error": "Not enough funds on balance"}
    assert not SandboxOrder.objects.exists()


def test_multi_status(client, account):
    first = add(client, account)["order"]
    second = add(client, account)["order"]
    body = call(client, account, action="status", orders=f"{first},{second},777")
    assert set(body) == {first, second, "777"}
    assert body[first]["status"] == "Pending" and body["777"] == {"error": "Incorrect order ID"}
    assert call(client, account, action="status", order="777") == {"error": "Incorrect order ID"}
    too_many = ",".join(str(i) for i in range(101))
    assert call(client, account, action="status", orders=too_many) == {"error": "Incorrect request"}


def test_cancel(client, account):
    cancellable = service(cancel=True)
    order_id = add(client, account, item=cancellable)["order"]
    other = add(client, account, item=service(cancel=False))["order"]
    body = call(client, account, action="cancel", orders=f"{order_id},{other},777")
    assert body == [
        {"order": int(order_id), "cancel": 1},
        {"order": int(other), "cancel": {"error": "Cancel is not available for this service"}},
        {"order": 777, "cancel": {"error": "Incorrect order ID"}},
    ]
    status = call(client, account, action="status", order=order_id)
    assert (status["status"], status["remains"]) == ("Canceled", cancellable["min"])
    charge_other = Decimal(call(client, account, action="status", order=other)["charge"])
    assert balance_of(account) == Decimal("500000") - charge_other
    again = call(client, account, action="cancel", orders=order_id)
    assert again == [{"order": int(order_id), "cancel": {"error": "Order can not be canceled"}}]


def test_refill_and_refill_status(client, account):
    item = service(refill=True)
    order_id = add(client, account, item=item)["order"]
    assert call(client, account, action="refill", order=order_id) == {"error": "Order is not completed yet"}
    rewind(2 * STEP, account=account)
    refill = call(client, account, action="refill", order=order_id)
    assert set(refill) == {"refill"} and isinstance(refill["refill"], str)
    assert call(client, account, action="refill_status", refill=refill["refill"]) == {"status": "Pending"}
    SandboxRefill.objects.update(created_at=F("created_at") - timedelta(seconds=2 * STEP))
    assert call(client, account, action="refill_status", refill=refill["refill"]) == {"status": "Completed"}
    assert call(client, account, action="refill_status", refill="999") == {"error": "Incorrect refill ID"}
    no_refill = add(client, account, item=service(refill=False))["order"]
    assert call(client, account, action="refill", order=no_refill) == {
        "error": "Refill is not available for this service"
    }


DOCUMENTED = ["Pending", "Processing", "In progress", "Completed", "Partial", "Canceled", "Error", "Refunded"]


def test_every_documented_status_is_produced(client, account):
    """provider-docs 001's eight statuses, each from its documented trigger (module docstring)."""
    seen = set()
    links = ["https://ig.com/a", "https://ig.com/processing", "https://ig.com/partial", "https://ig.com/cancel",
             "https://ig.com/error", "https://ig.com/refund"]  # fmt: skip
    ids = [add(client, account, link=link)["order"] for link in links]
    for _phase in range(3):
        body = call(client, account, action="status", orders=",".join(ids))
        seen |= {entry["status"] for entry in body.values()}
        rewind(STEP, account=account)
    assert seen == set(DOCUMENTED)


def test_processing_keyword_shows_processing_while_running(client, account):
    order_id = add(client, account, link="https://ig.com/processing-fast")["order"]
    rewind(STEP + 1, account=account)
    assert call(client, account, action="status", order=order_id)["status"] == "Processing"
    rewind(STEP, account=account)
    assert call(client, account, action="status", order=order_id)["status"] == "Completed"


def test_refunded_gives_the_whole_charge_back_once(client, account):
    item = service()
    order_id = add(client, account, link="https://ig.com/refund", item=item)["order"]
    charge = Decimal(call(client, account, action="status", order=order_id)["charge"])
    rewind(2 * STEP, account=account)
    for _ in range(2):  # asked twice: refunded once
        status = call(client, account, action="status", order=order_id)
        assert (status["status"], status["remains"], Decimal(status["charge"])) == ("Refunded", item["min"], charge)
    assert balance_of(account) == Decimal("500000")


def test_currency_keyword_changes_the_status_currency(client, account):
    usd = add(client, account, link="https://ig.com/currency-usd")["order"]
    idr = add(client, account)["order"]
    body = call(client, account, action="status", orders=f"{usd},{idr}")
    assert (body[usd]["currency"], body[idr]["currency"]) == ("USD", "IDR")
