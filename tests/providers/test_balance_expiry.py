"""RajaSMS `Expired`: stored by the balance check, shown to operators with a warning before it passes, and
the account problems (globalstatus 40 / 50) recorded on the provider and kept from the reseller."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import balance_of, ledger_violations
from orders.placement import order_place
from providers.models import Provider, Service
from providers.pricing import pricing_refresh
from providers.services import provider_fetch_balance

BALANCE = "https://raja.example/sms/api_sms_masking_balance_json.php"
SEND = "https://raja.example/sms/api_sms_reguler_send_json.php"


def balance_reply(expired) -> dict:
    return {
        "balance_respon": [{"globalstatus": 10, "globalstatustext": "Success", "Balance": 5000, "Expired": expired}]
    }


@responses.activate
def test_balance_check_stores_the_expiry_date_and_its_text(raja_provider):
    responses.post(BALANCE, json=balance_reply("2026-12-31"))
    provider_fetch_balance(raja_provider)
    raja_provider.refresh_from_db()
    assert (raja_provider.last_balance, raja_provider.balance_expires_on, raja_provider.balance_expires_text) == (
        Decimal(5000),
        date(2026, 12, 31),
        "2026-12-31",
    )


@responses.activate
def test_an_unreadable_expiry_is_kept_as_text_and_does_not_fail_the_check(raja_provider):
    responses.post(BALANCE, json=balance_reply("selamanya"))
    assert provider_fetch_balance(raja_provider).amount == Decimal(5000)
    raja_provider.refresh_from_db()
    assert (raja_provider.balance_expires_on, raja_provider.balance_expires_text, raja_provider.last_error) == (
        None,
        "selamanya",
        "",
    )
    assert raja_provider.balance_expiry() == "unreadable"


@pytest.mark.parametrize(("days", "state"), [(-1, "expired"), (0, "soon"), (7, "soon"), (8, ""), (365, "")])
def test_expiry_states_around_the_warning_window(raja_provider, days, state):
    today = date(2026, 5, 1)
    raja_provider.balance_expires_on = today + timedelta(days=days)
    assert raja_provider.balance_expiry(today) == state


def test_the_warning_window_is_a_setting(raja_provider, settings):
    settings.PROVIDER_BALANCE_EXPIRY_WARN_DAYS = 30
    raja_provider.balance_expires_on = timezone.localdate() + timedelta(days=20)
    assert raja_provider.balance_expiry() == "soon"


@pytest.mark.parametrize("url", ["admin:providers_provider_balances", "admin:reports_balances"])
def test_operators_see_the_expiry_with_a_warning(client, operator, raja_provider, smm_provider, url):
    today = timezone.localdate()
    Provider.objects.filter(pk=raja_provider.pk).update(
        balance_expires_on=today + timedelta(days=3), balance_expires_text="x"
    )
    Provider.objects.filter(pk=smm_provider.pk).update(balance_expires_on=today + timedelta(days=90))
    client.force_login(operator)
    page = client.get(reverse(url)).content.decode()
    assert page.count('data-expiry="soon"') == 1 and 'data-expiry="expired"' not in page
    assert 'id="balance-expiry-warning"' in page and "7" in page
    assert (today + timedelta(days=3)).isoformat() in page and (today + timedelta(days=90)).isoformat() in page

    Provider.objects.filter(pk=raja_provider.pk).update(balance_expires_on=today - timedelta(days=1))
    Provider.objects.filter(pk=smm_provider.pk).update(balance_expires_on=None, balance_expires_text="")
    page = client.get(reverse(url)).content.decode()
    assert page.count('data-expiry="expired"') == 1


def test_no_warning_when_nothing_is_near(client, operator, raja_provider):
    Provider.objects.filter(pk=raja_provider.pk).update(balance_expires_on=timezone.localdate() + timedelta(days=60))
    client.force_login(operator)
    page = client.get(reverse("admin:providers_provider_balances")).content.decode()
    assert 'id="balance-expiry-warning"' not in page and "data-expiry" not in page


def test_provider_admin_list_and_page_show_the_expiry(client, operator, raja_provider):
    Provider.objects.filter(pk=raja_provider.pk).update(balance_expires_on=timezone.localdate() - timedelta(days=2))
    client.force_login(operator)
    listing = client.get(reverse("admin:providers_provider_changelist")).content.decode()
    page = client.get(reverse("admin:providers_provider_change", args=[raja_provider.pk])).content.decode()
    for html in (listing, page):
        assert (timezone.localdate() - timedelta(days=2)).isoformat() in html and "⚠" in html


# --- globalstatus 40 / 50 in the order flow --------------------------------------------------------------
@responses.activate
@pytest.mark.parametrize(("code", "text"), [(40, "Ip address not register"), (50, "Expired Balance")])
def test_an_account_problem_fails_and_refunds_the_sms_and_tells_the_operator(raja_provider, reseller, code, text):
    pricing_refresh()
    responses.post(SEND, json={"sending_respon": [{"globalstatus": code, "globalstatustext": text}]})
    start = balance_of(reseller)
    order = order_place(reseller, kind="sms", sms_type="reguler", message="Halo", recipients="081234567890")
    # (the suite's default fixture sends accepted orders inline, as the worker would)

    order.refresh_from_db()
    entries = LedgerEntry.objects.filter(order_id=order.pk).values_list("kind", "amount")
    assert sorted(entries) == [("charge", -order.charge), ("refund", order.charge)]  # refunded once, in full
    raja_provider.refresh_from_db()
    assert order.status == "failed" and balance_of(reseller) == start and ledger_violations() == []
    assert f"globalstatus {code}" in raja_provider.last_error  # the operator sees why
    assert text not in order.error and "raja" not in order.error.lower()  # the reseller sees no supplier detail
    assert list(order.recipients.values_list("state", flat=True)) == ["rejected"]


@responses.activate
def test_an_account_problem_moves_the_sms_to_the_next_route(raja_provider, masking_provider, reseller):
    """A second gateway of the same type takes the send when the first refuses the panel's account."""
    Service.objects.filter(provider=masking_provider, external_id="masking").update(route_priority=99)
    pricing_refresh()
    responses.post(
        SEND.replace("reguler", "masking"),
        json={"sending_respon": [{"globalstatus": 50, "globalstatustext": "Expired Balance"}]},
    )
    responses.get("http://mask.example/masking/send.php", body="18319370")
    start = balance_of(reseller)
    order = order_place(reseller, kind="sms", sms_type="masking", message="Halo", recipients="081234567890")

    order.refresh_from_db()
    assert (order.provider_id, order.status, order.external_id) == (masking_provider.pk, "processing", "18319370")
    assert balance_of(reseller) == start - order.charge  # sent: charged once, nothing refunded
    raja_provider.refresh_from_db()
    assert "globalstatus 50" in raja_provider.last_error
    assert order.events.filter(code="route_switched").exists()
