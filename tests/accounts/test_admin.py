from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry
from accounts.selectors import balance_of

pytestmark = pytest.mark.django_db


def test_adjust_balance_action_asks_then_writes_one_entry(client, operator, reseller):
    client.force_login(operator)
    url = reverse("admin:accounts_user_changelist")
    form = client.post(url, {"action": "adjust_balance", "_selected_action": [reseller.pk]})
    assert form.status_code == 200 and b"reason" in form.content.lower()
    done = client.post(
        url,
        {
            "action": "adjust_balance",
            "_selected_action": [reseller.pk],
            "apply": "1",
            "amount": "-2.500",
            "reason": "biaya admin",
        },
    )
    assert done.status_code == 302
    entry = LedgerEntry.objects.filter(wallet__user=reseller, kind="adjustment").get()
    assert entry.amount == Decimal("-2500.00") and entry.actor == operator and entry.reason == "biaya admin"
    assert balance_of(reseller) == Decimal("97500.00")


def test_adjust_balance_action_rejects_bad_amount(client, operator, reseller):
    client.force_login(operator)
    url = reverse("admin:accounts_user_changelist")
    response = client.post(
        url,
        {"action": "adjust_balance", "_selected_action": [reseller.pk], "apply": "1", "amount": "abc", "reason": "x"},
    )
    assert response.status_code == 200
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 0


def test_balance_is_read_only_in_user_change_page(client, operator, reseller):
    client.force_login(operator)
    page = client.get(reverse("admin:accounts_user_change", args=[reseller.pk])).content.decode()
    assert "Rp 100.000" in page
    assert 'name="balance' not in page


def test_ledger_admin_lists_and_filters_but_never_edits(client, operator, reseller):
    client.force_login(operator)
    listing = client.get(reverse("admin:accounts_ledgerentry_changelist"), {"kind__exact": "deposit"})
    assert listing.status_code == 200 and b"budi" in listing.content
    entry = LedgerEntry.objects.first()
    assert client.get(reverse("admin:accounts_ledgerentry_add")).status_code == 403
    change = client.post(reverse("admin:accounts_ledgerentry_change", args=[entry.pk]), {"reason": "x"})
    assert change.status_code in (302, 403) or b"readonly" in change.content
    entry.refresh_from_db()
    assert entry.reason != "x"
