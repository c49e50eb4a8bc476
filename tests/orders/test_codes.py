"""Codes, not strings: a refused request carries a Problem per field, each downstream protocol maps them in
one table, and every history entry carries an EventCode (its reason keeps only the detail)."""

from __future__ import annotations

import pytest

from orders.api import osimesa, rajasms, smm_v2, virtusim
from orders.models import EventCode
from orders.placement import order_place
from orders.quotes import OrderInvalid, Problem, order_quote
from providers.adapters.errors import ProviderOutcomeUnknown, ProviderRejected

pytestmark = pytest.mark.django_db

SMM_LINK = "https://instagram.com/p/abc"


def refusal(user, **request) -> OrderInvalid:
    with pytest.raises(OrderInvalid) as caught:
        order_quote(user, **request)
    return caught.value


def test_each_field_carries_its_problem(buyer, shop):
    exc = refusal(buyer, kind="smm", service=shop.smm, link="ftp://x", quantity="lots")
    assert exc.codes == {"link": Problem.BAD_LINK, "quantity": Problem.NOT_A_NUMBER}
    assert set(exc.errors) == {"link", "quantity"} and all(exc.errors.values())  # the form's messages

    below = refusal(buyer, kind="smm", service=shop.smm, link=SMM_LINK, quantity=shop.smm.min_qty - 1)
    above = refusal(buyer, kind="smm", service=shop.smm, link=SMM_LINK, quantity=shop.smm.max_qty + 1)
    assert below.codes == {"quantity": Problem.BELOW_MINIMUM} and above.codes == {"quantity": Problem.ABOVE_MAXIMUM}

    assert refusal(buyer, kind="otp", service=shop.otp, operator="xl").codes == {"operator": Problem.BAD_OPERATOR}
    assert refusal(buyer, kind="prepaid", service=shop.prepaid, target="12").codes == {"target": Problem.BAD_TARGET}
    assert refusal(buyer, kind="nope").codes == {"kind": Problem.UNKNOWN_KIND}
    assert refusal(buyer, kind="sms", sms_type="reguler", message="", recipients="").codes == {
        "message": Problem.BAD_MESSAGE,
        "recipients": Problem.BAD_RECIPIENTS,
    }


def test_a_wallet_that_does_not_cover_the_charge_is_a_code_too(make_reseller, shop):
    poor = make_reseller("miskin", deposit=1)
    with pytest.raises(OrderInvalid) as caught:
        order_place(poor, kind="smm", service=shop.smm, link=SMM_LINK, quantity=1000)
    assert caught.value.codes == {"__all__": Problem.INSUFFICIENT_BALANCE}


def test_first_follows_the_protocols_order_of_precedence(buyer, shop):
    exc = refusal(buyer, kind="smm", service=shop.smm, link="ftp://x", quantity="lots")
    assert exc.first(Problem.NOT_A_NUMBER, Problem.BAD_LINK) == Problem.NOT_A_NUMBER
    assert exc.first(Problem.BAD_LINK, Problem.NOT_A_NUMBER) == Problem.BAD_LINK
    assert exc.first(Problem.OUT_OF_STOCK) is None


@pytest.mark.parametrize("module", [smm_v2, virtusim, osimesa, rajasms])
def test_each_protocol_maps_problems_in_one_table(module):
    assert module._REFUSALS and all(isinstance(code, Problem) for code in module._REFUSALS)
    assert Problem.INSUFFICIENT_BALANCE in module._REFUSALS  # every protocol has its "not enough balance"


def codes(order) -> list[str]:
    return list(order.events.order_by("pk").values_list("code", flat=True))


def test_history_entries_carry_codes(buyer, shop, upstream):
    accepted = order_place(buyer, kind="smm", service=shop.smm, link=SMM_LINK, quantity=1000)
    upstream.place.append(ProviderRejected("Incorrect service ID"))
    refused = order_place(buyer, kind="smm", service=shop.smm, link=SMM_LINK, quantity=1000)
    upstream.place.append(ProviderOutcomeUnknown("read timeout"))
    lost = order_place(buyer, kind="smm", service=shop.smm, link=SMM_LINK, quantity=1000)

    assert codes(accepted) == [EventCode.PLACED, EventCode.ACCEPTED]
    assert codes(refused) == [EventCode.PLACED, EventCode.REFUSED]
    assert codes(lost) == [EventCode.PLACED, EventCode.OUTCOME_UNKNOWN]
    assert "Incorrect service ID" in refused.events.get(code=EventCode.REFUSED).reason  # the detail stays


def test_old_history_gets_its_codes_from_the_reasons(buyer, shop, upstream):
    """The migration that introduced codes reads them from the free-text reasons written before."""
    from importlib import import_module

    from django.apps import apps

    from orders.models import OrderEvent

    order = order_place(buyer, kind="smm", service=shop.smm, link=SMM_LINK, quantity=1000)
    old = {
        "placed": EventCode.PLACED,
        "accepted upstream": EventCode.ACCEPTED,
        "upstream refused: Incorrect service ID": EventCode.REFUSED,
        "outcome unknown: read timeout": EventCode.OUTCOME_UNKNOWN,
        "after expiry": EventCode.OTP_EXPIRED,
        "refreshed for an API status request": EventCode.REFRESH_API,
        "2/3 delivered": EventCode.DELIVERY,
        "something else": EventCode.NOTE,
    }
    made = {reason: OrderEvent.objects.create(order=order, to_status="pending", reason=reason) for reason in old}

    import_module("orders.migrations.0004_order_event_codes").codes_from_reasons(apps, None)

    for reason, event in made.items():
        event.refresh_from_db()
        assert event.code == old[reason], reason
    assert made["2/3 delivered"].reason == "2/3"
