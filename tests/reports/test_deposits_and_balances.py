"""Operator screens: deposit requests (approve exactly once, reject with a note) and the balances screen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import DepositRequest, LedgerEntry
from accounts.selectors import balance_of, reseller_balances
from accounts.services import deposit_request_create, wallet_get

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_depositrequest_changelist"


@pytest.fixture
def deposit(reseller):
    return deposit_request_create(user=reseller, amount="250000", method="bank", note="BCA a/n Budi")


def _act(client, action, *ids, **extra):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": list(ids), **extra})


def test_approve_twice_credits_once(client, operator, reseller, deposit):
    client.force_login(operator)
    first = _act(client, "approve", deposit.pk)
    second = _act(client, "approve", deposit.pk)
    assert first.status_code == second.status_code == 302
    deposit.refresh_from_db()
    assert deposit.status == "approved" and deposit.decided_by == operator and deposit.ledger_entry_id
    entries = LedgerEntry.objects.filter(wallet__user=reseller, kind="deposit", amount=Decimal("250000"))
    assert entries.count() == 1 and entries.get() == deposit.ledger_entry
    assert entries.get().actor == operator
    assert balance_of(reseller) == Decimal("350000.00")  # 100,000 initial + 250,000 once
    messages = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert any("already decided" in m for m in messages)


def test_approved_request_links_its_ledger_entry(client, operator, deposit):
    client.force_login(operator)
    _act(client, "approve", deposit.pk)
    deposit.refresh_from_db()
    page = client.get(reverse(CHANGELIST), {"status__exact": "approved"}).content.decode()
    assert reverse("admin:accounts_ledgerentry_change", args=[deposit.ledger_entry_id]) in page
    assert "Rp 250.000" in page


def test_reject_asks_for_a_note_then_rejects_without_money(client, operator, reseller, deposit):
    client.force_login(operator)
    form = _act(client, "reject", deposit.pk)
    assert form.status_code == 200 and b"decision_note" in form.content and b"BCA" not in form.content
    assert DepositRequest.objects.get(pk=deposit.pk).status == "pending"
    missing_note = _act(client, "reject", deposit.pk, apply="1", decision_note="")
    assert missing_note.status_code == 200
    assert DepositRequest.objects.get(pk=deposit.pk).status == "pending"
    done = _act(client, "reject", deposit.pk, apply="1", decision_note="transfer tidak ditemukan")
    assert done.status_code == 302
    deposit.refresh_from_db()
    assert (deposit.status, deposit.decision_note, deposit.decided_by) == (
        "rejected",
        "transfer tidak ditemukan",
        operator,
    )
    assert deposit.ledger_entry_id is None and balance_of(reseller) == Decimal("100000.00")
    _act(client, "approve", deposit.pk)  # a rejected request cannot be approved afterwards
    assert DepositRequest.objects.get(pk=deposit.pk).status == "rejected"
    assert balance_of(reseller) == Decimal("100000.00")


def test_list_filters_and_search(client, operator, reseller, make_reseller, deposit):
    other = deposit_request_create(user=make_reseller("sari"), amount="50000", method="qris")
    client.force_login(operator)
    url = reverse(CHANGELIST)
    for params, present, absent in [
        ({"status__exact": "pending"}, deposit, None),
        ({"method__exact": "qris"}, other, deposit),
        ({"created_at__year": str(timezone.localdate().year)}, deposit, None),
        ({"q": "sari"}, other, deposit),
    ]:
        response = client.get(url, params)
        assert response.status_code == 200
        result = list(response.context["cl"].result_list)
        assert present in result and (absent is None or absent not in result)


def test_detail_is_read_only_and_offers_the_decision(client, operator, deposit):
    client.force_login(operator)
    url = reverse("admin:accounts_depositrequest_change", args=[deposit.pk])
    page = client.get(url).content.decode()
    assert 'name="amount"' not in page and 'name="status"' not in page and "Rp 250.000" in page
    assert 'id="deposit-decision"' in page and 'value="approve"' in page
    client.post(url, {"amount": "9999999", "status": "approved"})  # editing is refused
    deposit.refresh_from_db()
    assert deposit.amount == Decimal("250000") and deposit.status == "pending"
    assert client.get(reverse("admin:accounts_depositrequest_add")).status_code == 403


def test_decided_request_offers_no_decision(client, operator, deposit):
    client.force_login(operator)
    _act(client, "approve", deposit.pk)
    url = reverse("admin:accounts_depositrequest_change", args=[deposit.pk])
    assert 'id="deposit-decision"' not in client.get(url).content.decode()


def test_approval_error_is_reported_and_credits_nothing(client, operator, reseller, deposit, monkeypatch):
    from django.db import IntegrityError

    def broken(deposit, *, actor):
        raise IntegrityError("CHECK constraint failed")

    monkeypatch.setattr("accounts.admin.deposit_approve", broken)
    client.force_login(operator)
    response = _act(client, "approve", deposit.pk)
    assert response.status_code == 302
    messages = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert any(f"Deposit #{deposit.pk} was not approved" in m for m in messages)
    assert DepositRequest.objects.get(pk=deposit.pk).status == "pending"
    assert balance_of(reseller) == Decimal("100000.00")


def test_view_only_staff_cannot_decide(client, make_reseller, reseller, deposit):
    clerk = make_reseller("clerk")
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(Permission.objects.get(codename="view_depositrequest"))
    client.force_login(clerk)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    _act(client, "approve", deposit.pk)
    assert DepositRequest.objects.get(pk=deposit.pk).status == "pending"
    assert balance_of(reseller) == Decimal("100000.00")


def test_resellers_cannot_reach_deposit_admin(client, reseller, deposit):
    client.force_login(reseller)
    response = _act(client, "approve", deposit.pk)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert DepositRequest.objects.get(pk=deposit.pk).status == "pending"


# --- balances ----------------------------------------------------------------------------------------
@pytest.fixture
def balances(make_reseller, operator, providers):
    make_reseller("ani", deposit=50_000)
    make_reseller("budi", deposit=300_000)
    make_reseller("citra", deposit=125_000)
    make_reseller("dodi")  # zero
    from accounts.services import wallet_credit

    wallet_credit(user=operator, amount=999_000, reason="staff wallet, not owed to a reseller")
    smm, pulsa = providers
    smm.last_balance, smm.low_balance_threshold = Decimal("150000"), Decimal("500000")
    smm.save()
    pulsa.last_balance, pulsa.low_balance_threshold = Decimal("2000000"), Decimal("100000")
    pulsa.save()


def test_reseller_balances_selector(balances):
    page = reseller_balances(1, per_page=3)
    assert page.total_owed == Decimal("475000.00") and page.resellers == 4 and page.pages == 2
    assert [row[1] for row in page.rows] == ["budi", "citra", "ani"]
    second = reseller_balances(2, per_page=3)
    assert [row[1] for row in second.rows] == ["dodi"] and second.has_previous and not second.has_next
    assert reseller_balances(99, per_page=3).number == 2


def test_balances_screen(client, operator, balances):
    client.force_login(operator)
    response = client.get(reverse("admin:reports_balances"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rp 475.000" in page  # owed to resellers; the staff wallet is not counted
    assert "Rp 999.000" not in page
    table = page.split('id="reseller-balances"')[1].split("</table>")[0]
    assert table.index("budi") < table.index("citra") < table.index("ani") < table.index("dodi")
    upstream = page.split('id="upstream-balances"')[1].split("</table>")[0]
    assert upstream.count('data-low="1"') == 1 and upstream.count('data-low="0"') == 1
    assert "1 provider is below its low-balance threshold." in page
    assert "Rp 2.150.000" in page  # upstream total
    assert reverse("admin:providers_provider_balances") in page
    assert client.get(reverse("admin:reports_balances"), {"p": "x"}).status_code == 200


def test_balances_screen_paginates_without_a_count_query(client, operator, balances, django_assert_max_num_queries):
    client.force_login(operator)
    wallet_get(operator)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:reports_balances"), {"p": "2"})
    wallet_sql = [q["sql"] for q in queries if "accounts_wallet" in q["sql"]]
    assert len(wallet_sql) == 2  # one aggregate (sum + count), one page
    assert any("SUM(" in sql.upper() for sql in wallet_sql)
