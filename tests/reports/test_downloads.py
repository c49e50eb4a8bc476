"""CSV downloads: resellers get their own rows from /pesanan/csv/ and /saldo/csv/; operators get everyone's
from the admin. Bad dates are a 400 with a readable message, never a 500."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.services import wallet_adjust, wallet_debit, wallet_refund
from orders.reports.periods import today_wib
from tests.reports.conftest import make_order, read_csv, set_entry_time, wib

pytestmark = pytest.mark.django_db

RANGE = {"start": "2026-11-20", "end": "2026-11-21"}


@pytest.fixture
def two_resellers(make_reseller, services):
    """budi and sari with orders and ledger entries on 20-21 Nov 2026 (WIB), plus rows outside the range."""
    smm, pulsa = services
    budi = make_reseller("budi", deposit=100_000)
    sari = make_reseller("sari", deposit=50_000)
    data = {"budi": budi, "sari": sari, "orders": {}}
    for user, service, at, name in [
        (budi, smm, "2026-11-20 23:59", "budi_late"),
        (budi, pulsa, "2026-11-21 00:00", "budi_midnight"),
        (sari, smm, "2026-11-21 12:00", "sari_noon"),
        (budi, smm, "2026-11-19 23:59", "budi_before"),
        (budi, smm, "2026-11-22 00:00", "budi_after"),
    ]:
        order = make_order(user, service, at=wib(at), target='=HYPERLINK("x")', external_id=f"EXT-{name}")
        entry = wallet_debit(user=user, amount=order.charge, order_id=order.pk, reason=f"Order #{order.pk}")
        set_entry_time(entry, wib(at))
        data["orders"][name] = order
    refund = wallet_refund(order_id=data["orders"]["budi_late"].pk, amount=Decimal("3600.50"), reason="partial")
    set_entry_time(refund, wib("2026-11-21 08:00"))
    adjust = wallet_adjust(user=sari, amount=Decimal("-2500"), reason="-biaya admin", actor=None)
    set_entry_time(adjust, wib("2026-11-20 09:00"))
    LedgerEntry.objects.filter(kind="deposit").update(created_at=wib("2026-11-01 10:00"))
    return data


def test_reseller_orders_csv_is_own_rows_only(client, two_resellers):
    budi, orders = two_resellers["budi"], two_resellers["orders"]
    client.force_login(budi)
    response = client.get(reverse("orders_csv"), RANGE)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="orders_2026-11-20_2026-11-21.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "ID",
        "Created (WIB)",
        "Kind",
        "Service",
        "Status",
        "Target",
        "Quantity",
        "Charge (Rp)",
        "Refunded (Rp)",
        "Net (Rp)",
    ]
    assert [int(r[0]) for r in rows[1:]] == [orders["budi_late"].pk, orders["budi_midnight"].pk]
    late = rows[1]
    assert late[1:4] == ["2026-11-20 23:59", "Social media", "IG Followers"]
    assert late[4:] == ["completed", '\'=HYPERLINK("x")', "1", "12000", "0", "12000"]
    assert rows[2][1] == "2026-11-21 00:00"
    body = "\n".join(",".join(r) for r in rows)
    assert "EXT-" not in body and "SMM Pusat" not in body and "10000" not in body  # no operator columns


def test_reseller_ledger_csv_is_own_rows_only(client, two_resellers):
    budi, sari, orders = two_resellers["budi"], two_resellers["sari"], two_resellers["orders"]
    client.force_login(budi)
    rows = read_csv(client.get(reverse("ledger_csv"), RANGE))
    assert rows[0] == ["ID", "Time (WIB)", "Kind", "Amount (Rp)", "Balance after (Rp)", "Order ID", "Reason"]
    assert [(r[2], r[3], r[5]) for r in rows[1:]] == [
        ("charge", "-12000", str(orders["budi_late"].pk)),
        ("charge", "-12000", str(orders["budi_midnight"].pk)),
        ("refund", "3600.50", str(orders["budi_late"].pk)),
    ]
    assert [r[1] for r in rows[1:]] == ["2026-11-20 23:59", "2026-11-21 00:00", "2026-11-21 08:00"]
    assert [r[4] for r in rows[1:]] == [
        "88000",
        "76000",
        "55600.50",
    ]  # balance after (two charges outside the range in between)

    client.force_login(sari)
    rows = read_csv(client.get(reverse("ledger_csv"), RANGE))
    kinds = [(r[2], r[3], r[6]) for r in rows[1:]]
    assert ("adjustment", "-2500", "'-biaya admin") in kinds  # amount a number, reason text escaped
    assert all(r[5] != str(orders["budi_late"].pk) for r in rows[1:])


def test_reseller_without_wallet_gets_an_empty_ledger(client, operator):
    client.force_login(operator)  # staff on the reseller URL: scoped to themselves, not everyone
    rows = read_csv(client.get(reverse("ledger_csv")))
    assert len(rows) == 1


def test_reseller_downloads_default_to_the_last_30_days(client, reseller, services):
    smm, _ = services
    recent = make_order(reseller, smm, at=timezone.now() - timedelta(days=2))
    make_order(reseller, smm, at=timezone.now() - timedelta(days=45))
    client.force_login(reseller)
    response = client.get(reverse("orders_csv"))
    today = today_wib()
    expected = f'attachment; filename="orders_{(today - timedelta(days=29)).isoformat()}_{today.isoformat()}.csv"'
    assert response["Content-Disposition"] == expected
    assert [int(r[0]) for r in read_csv(response)[1:]] == [recent.pk]


@pytest.mark.parametrize("name", ["orders_csv", "ledger_csv"])
@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"start": "kemarin"}, "YYYY-MM-DD"),
        ({"start": "2026-02-30"}, "not a real date"),
        ({"start": "2026-11-22", "end": "2026-11-21"}, "must not be after"),
        ({"start": "2020-01-01", "end": "2026-11-21"}, "at most 366 days"),
        ({"end": "99999-01-01"}, "YYYY-MM-DD"),
    ],
)
def test_bad_dates_are_400_with_a_message(client, reseller, name, params, fragment):
    client.force_login(reseller)
    response = client.get(reverse(name), params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert fragment in response.content.decode()


@pytest.mark.parametrize("name", ["orders_csv", "ledger_csv"])
def test_reseller_downloads_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_reseller_download_urls():
    assert reverse("orders_csv") == "/pesanan/csv/" and reverse("ledger_csv") == "/saldo/csv/"


def test_post_is_not_allowed(client, reseller):
    client.force_login(reseller)
    assert client.post(reverse("orders_csv")).status_code == 405


# --- operators ---------------------------------------------------------------------------------------
def test_operator_orders_csv_has_everyone_and_operator_columns(client, operator, two_resellers):
    orders = two_resellers["orders"]
    client.force_login(operator)
    response = client.get(reverse("admin:reports_orders_csv"), RANGE)
    assert response.status_code == 200 and response.streaming
    rows = read_csv(response)
    assert rows[0] == [
        "ID",
        "Created (WIB)",
        "Kind",
        "Service",
        "Provider",
        "Status",
        "Target",
        "Quantity",
        "Charge (Rp)",
        "Refunded (Rp)",
        "Net (Rp)",
        "Upstream cost (Rp)",
        "Upstream ID",
    ]
    ids = [int(r[0]) for r in rows[1:]]
    assert ids == [orders["budi_late"].pk, orders["budi_midnight"].pk, orders["sari_noon"].pk]
    assert rows[3][4] == "SMM Pusat" and rows[3][11] == "10000" and rows[3][12] == "EXT-sari_noon"
    assert rows[2][4] == "Pulsa"


def test_operator_ledger_csv_has_everyone_with_the_reseller(client, operator, two_resellers):
    client.force_login(operator)
    rows = read_csv(client.get(reverse("admin:reports_ledger_csv"), RANGE))
    assert rows[0] == [
        "ID",
        "Time (WIB)",
        "Reseller",
        "Kind",
        "Amount (Rp)",
        "Balance after (Rp)",
        "Order ID",
        "Reason",
    ]
    assert {r[2] for r in rows[1:]} == {"budi", "sari"}
    assert len(rows) == 1 + 5  # budi: 2 charges + refund; sari: charge + adjustment


def test_operator_csv_is_one_query_whatever_the_row_count(client, operator, two_resellers, services):
    smm, _ = services
    for _ in range(30):
        make_order(two_resellers["sari"], smm, at=wib("2026-11-21 13:00"))
    client.force_login(operator)
    response = client.get(reverse("admin:reports_orders_csv"), RANGE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(response)
    assert len(rows) == 1 + 33
    assert len(queries) == 1


def test_operator_csv_bad_dates_are_400(client, operator):
    client.force_login(operator)
    for name in ("admin:reports_orders_csv", "admin:reports_ledger_csv", "admin:reports_profit_csv"):
        response = client.get(reverse(name), {"start": "2026-11-31"})
        assert response.status_code == 400 and b"not a real date" in response.content


@pytest.mark.parametrize(
    "name",
    [
        "admin:reports_orders_csv",
        "admin:reports_ledger_csv",
        "admin:reports_profit_csv",
        "admin:reports_profit",
        "admin:reports_balances",
    ],
)
def test_resellers_get_the_admin_login(client, reseller, name):
    client.force_login(reseller)
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    client.logout()
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize(
    "name",
    [
        "admin:reports_orders_csv",
        "admin:reports_ledger_csv",
        "admin:reports_profit_csv",
        "admin:reports_profit",
        "admin:reports_balances",
    ],
)
def test_staff_without_the_model_permission_get_403(client, make_reseller, name):
    clerk = make_reseller("clerk")
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    assert client.get(reverse(name)).status_code == 403


def test_changelists_link_the_downloads(client, operator):
    client.force_login(operator)
    orders = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert reverse("admin:reports_orders_csv") in orders and reverse("admin:reports_profit") in orders
    ledger = client.get(reverse("admin:accounts_ledgerentry_changelist")).content.decode()
    assert reverse("admin:reports_ledger_csv") in ledger and reverse("admin:reports_balances") in ledger


def test_admin_index_has_a_reports_box(client, operator):
    client.force_login(operator)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="reports-module"' in page
    for name in (
        "admin:reports_balances",
        "admin:reports_profit",
        "admin:reports_orders_csv",
        "admin:reports_ledger_csv",
        "admin:accounts_depositrequest_changelist",
    ):
        assert reverse(name) in page
    assert "app-accounts" in page  # the stock app list is still there
