"""The daily SMS reconciliation (orders.reconcile.sms_reconcile_day): a gateway's report of a day against the
panel's SMS routed to it. The gateway is the scripted FakeUpstream (tests/orders/fakes.py); the masking
adapter's parsing of the real report is tested in tests/providers/adapters/test_masking_http.py and over
HTTP against the sandbox in tests/orders/test_e2e_sms_reconcile.py."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import balance_of
from orders.models import DifferenceKind, Order, OrderRecipient, SmsDifference, SmsReconciliation
from orders.placement import order_place
from orders.reconcile import WIB, sms_reconcile_day, sms_reconcile_due
from orders.tasks import reconcile_sms_reports
from providers.adapters.errors import ProviderRejected, ProviderUnavailable
from providers.adapters.types import DeliveryState, PlacedOrder, RecipientResult, SentSms, Status
from tests.i18n_check import untranslatable_names, untranslated_msgids

CODES = {DeliveryState.DELIVERED: "22", DeliveryState.SENT: "20", DeliveryState.FAILED: "50"}


def today() -> date:
    return timezone.localtime(timezone.now(), WIB).date()


def sent(external_id: str, number: str, state: DeliveryState | None = DeliveryState.DELIVERED, parts=1, at=None):
    code = CODES.get(state, "52" if state == DeliveryState.REJECTED else "99")
    return SentSms(external_id, number, at or timezone.now(), "Halo", parts, code, state, "text")


def place(buyer, *numbers: str, ids: tuple[str, ...] | None = None, upstream=None, message: str = "Halo") -> Order:
    """An SMS order to the masking gateway whose recipients get the report ids `ids` ("" = reply lost)."""
    ids = ids or tuple(str(18319000 + i) for i in range(len(numbers)))

    def accept(request):
        results = tuple(
            RecipientResult(n, i, DeliveryState.QUEUED) if i else RecipientResult(n, "", DeliveryState.SENT, "unknown")
            for n, i in zip(request.recipients, ids, strict=True)
        )
        return PlacedOrder(external_id=ids[0], status=Status.PROCESSING, raw_status="", recipients=results)

    upstream.place.append(accept)
    order = order_place(buyer, kind="sms", sms_type="masking", message=message, recipients="\n".join(numbers))
    assert order.provider.kind == "masking_http"
    return order


def set_state(order: Order, number: str, state: DeliveryState) -> None:
    OrderRecipient.objects.filter(order=order, number=number).update(state=state)


@pytest.fixture
def mask(shop):
    return shop.masking_route.provider


@pytest.fixture
def day_with_every_difference(shop, upstream, buyer):
    """Order A: one SMS both agree on, one the gateway's report lacks. Order B: the gateway says failed,
    the panel delivered. Order C: the gateway counted 2 SMS, the panel 1. And one SMS only the gateway knows."""
    a = place(buyer, "6281200000001", "6281200000002", ids=("100", "101"), upstream=upstream)
    b = place(buyer, "6281200000003", ids=("102",), upstream=upstream)
    c = place(buyer, "6281200000004", ids=("103",), upstream=upstream)
    for order in (a, b, c):
        OrderRecipient.objects.filter(order=order).update(state=DeliveryState.DELIVERED)
    upstream.sent = [
        sent("100", "6281200000001"),
        sent("102", "6281200000003", DeliveryState.FAILED),
        sent("103", "6281200000004", parts=2),
        sent("900", "6281299999999"),
    ]
    return a, b, c


def kinds(run: SmsReconciliation) -> list[tuple[str, str, int | None]]:
    return sorted(run.differences.values_list("kind", "external_id", "order_id"))


def test_the_three_kinds_of_difference(mask, upstream, buyer, day_with_every_difference):
    a, b, c = day_with_every_difference
    run = sms_reconcile_day(mask, today())

    assert run.status == "ok" and run.reason == ""
    assert kinds(run) == sorted(
        [
            (DifferenceKind.MISSING, "101", a.pk),
            (DifferenceKind.STATE, "102", b.pk),
            (DifferenceKind.PRICE, "103", c.pk),
            (DifferenceKind.UNKNOWN, "900", None),
        ]
    )
    assert (run.upstream_count, run.panel_count, run.matched_count) == (4, 4, 3)
    assert (run.unknown_count, run.missing_count, run.state_count, run.price_count) == (1, 1, 1, 1)
    price = run.differences.get(kind=DifferenceKind.PRICE)
    assert (price.panel_parts, price.upstream_parts) == (1, 2)
    assert (price.panel_cost, price.upstream_cost) == (Decimal("120.00"), Decimal("240.00"))  # route cost 120
    state = run.differences.get(kind=DifferenceKind.STATE)
    assert state.panel_state == "delivered" and state.upstream_state.startswith("50")
    # Gateway cost: 100, 102 (failed is charged) and 900 at 120, 103 twice; the panel's 4 SMS at 120.
    assert (run.upstream_cost, run.panel_cost) == (Decimal("600.00"), Decimal("480.00"))
    # The report was asked for the day and the next (a send just before midnight leaves after it).
    [call] = [c for c in upstream.calls if c[0] == "download_report"]
    assert call[2:] == (today(), today() + timedelta(days=1))


def test_nothing_is_refunded_or_charged_by_a_difference(mask, buyer, day_with_every_difference):
    before, entries = balance_of(buyer), LedgerEntry.objects.count()
    statuses = list(Order.objects.order_by("pk").values_list("status", "refunded"))

    sms_reconcile_day(mask, today())

    assert balance_of(buyer) == before and LedgerEntry.objects.count() == entries
    assert list(Order.objects.order_by("pk").values_list("status", "refunded")) == statuses


def test_running_a_day_again_replaces_it(mask, upstream, day_with_every_difference):
    first = sms_reconcile_day(mask, today())
    again = sms_reconcile_day(mask, today())
    assert again.pk == first.pk and SmsReconciliation.objects.count() == 1
    assert SmsDifference.objects.count() == 4 and kinds(again) == kinds(first)

    upstream.sent = upstream.sent[:1]  # the gateway's report now lacks 102 and 103 as well, and 900 is gone
    third = sms_reconcile_day(mask, today())
    assert third.pk == first.pk and SmsReconciliation.objects.count() == 1
    assert sorted(third.differences.values_list("kind", "external_id")) == [
        (DifferenceKind.MISSING, "101"),
        (DifferenceKind.MISSING, "102"),
        (DifferenceKind.MISSING, "103"),
    ]
    assert SmsDifference.objects.count() == 3 and third.missing_count == 3 and third.unknown_count == 0


def test_another_day_and_rows_outside_it(mask, upstream, buyer, shop):
    """Rows of the next day only serve to find late sends; other days' panel SMS are not expected."""
    order = place(buyer, "6281200000001", "6281200000002", ids=("100", "101"), upstream=upstream)
    tomorrow = timezone.now() + timedelta(days=1)
    upstream.sent = [sent("100", "6281200000001", DeliveryState.SENT), sent("101", "6281200000002", at=tomorrow)]
    OrderRecipient.objects.filter(order=order).update(state=DeliveryState.QUEUED)

    run = sms_reconcile_day(mask, today())
    assert kinds(run) == [] and (run.upstream_count, run.panel_count, run.matched_count) == (1, 2, 1)

    yesterday = sms_reconcile_day(mask, today() - timedelta(days=1))
    assert kinds(yesterday) == [] and (yesterday.upstream_count, yesterday.panel_count) == (0, 0)


def test_a_lost_reply_is_linked_to_its_probable_order(mask, upstream, buyer):
    order = place(buyer, "6281200000001", "6281200000002", ids=("100", ""), upstream=upstream)
    upstream.sent = [sent("100", "6281200000001", DeliveryState.SENT), sent("555", "6281200000002", DeliveryState.SENT)]

    run = sms_reconcile_day(mask, today())

    [difference] = run.differences.all()
    assert (difference.kind, difference.external_id, difference.order_id) == (DifferenceKind.UNKNOWN, "555", order.pk)
    assert f"#{order.pk}" in difference.detail


def test_no_charge_on_both_sides_costs_nothing_and_agrees(mask, upstream, buyer):
    order = place(buyer, "6281200000005", ids=("100",), upstream=upstream)
    set_state(order, "6281200000005", DeliveryState.REJECTED)
    upstream.sent = [sent("100", "6281200000005", DeliveryState.REJECTED)]

    run = sms_reconcile_day(mask, today())

    assert kinds(run) == [] and run.upstream_cost == run.panel_cost == Decimal("0.00")


def test_an_undocumented_status_is_a_state_difference(mask, upstream, buyer):
    order = place(buyer, "6281200000001", ids=("100",), upstream=upstream)
    upstream.sent = [sent("100", "6281200000001", None)]

    run = sms_reconcile_day(mask, today())

    assert kinds(run) == [(DifferenceKind.STATE, "100", order.pk)]


@pytest.mark.parametrize(
    "error",
    [ProviderRejected("Username atau Password salah", provider="Mask"), ProviderUnavailable("connection refused")],
)
def test_a_gateway_error_is_a_failed_run_with_its_reason(mask, upstream, day_with_every_difference, error):
    assert sms_reconcile_day(mask, today()).differences.count() == 4
    upstream.sent = error

    run = sms_reconcile_day(mask, today())

    assert run.status == "failed" and error.message in run.reason
    assert SmsReconciliation.objects.count() == 1 and not SmsDifference.objects.exists()
    assert (run.upstream_count, run.missing_count) == (0, 0)


def test_the_schedule_compares_yesterday_once_and_retries_a_failure(mask, upstream, day_with_every_difference):
    tomorrow = timezone.now() + timedelta(days=1)  # "yesterday" is today
    upstream.sent, good = ProviderUnavailable("down"), upstream.sent

    [failed] = sms_reconcile_due(tomorrow)
    assert (failed.day, failed.status) == (today(), "failed")

    upstream.sent = good
    [ok] = sms_reconcile_due(tomorrow)  # a failed day is tried again
    assert ok.pk == failed.pk and ok.status == "ok" and ok.differences.count() == 4
    assert sms_reconcile_due(tomorrow) == []  # a compared day is not fetched again
    assert sum(1 for c in upstream.calls if c[0] == "download_report") == 2


def test_only_enabled_gateways_with_a_report_are_compared(mask, upstream, shop):
    assert "Mask" in reconcile_sms_reports()  # the task's summary names the provider
    assert [c[1] for c in upstream.calls if c[0] == "download_report"] == ["Mask"]  # not Raja, not the others
    mask.enabled = False
    mask.save()
    SmsReconciliation.objects.all().delete()
    assert reconcile_sms_reports() == "nothing due"


def test_command_runs_a_given_day(mask, upstream, day_with_every_difference, capsys):
    call_command("sms_reconcile", "--day", today().isoformat(), "--provider", "Mask")
    out = capsys.readouterr().out
    assert f"Mask {today():%Y-%m-%d}: 4 SMS in the gateway's report" in out and "1 unknown to the panel" in out
    call_command("sms_reconcile", "--day", today().isoformat())  # again: replaced, not doubled
    assert SmsReconciliation.objects.count() == 1 and SmsDifference.objects.count() == 4

    with pytest.raises(CommandError, match="expected YYYY-MM-DD"):
        call_command("sms_reconcile", "--day", "kemarin")
    with pytest.raises(CommandError, match="no enabled provider"):
        call_command("sms_reconcile", "--provider", "Raja")

    upstream.sent = ProviderRejected("Username atau Password salah")
    with pytest.raises(SystemExit) as exited:
        call_command("sms_reconcile", "--day", today().isoformat())
    assert exited.value.code == 1 and "failed: Username atau Password salah" in capsys.readouterr().err


# --- admin ------------------------------------------------------------------------------------------------
def test_admin_lists_runs_and_differences_with_links_to_orders(client, operator, mask, day_with_every_difference):
    a, b, c = day_with_every_difference
    run = sms_reconcile_day(mask, today())
    client.force_login(operator)

    runs = client.get(reverse("admin:orders_smsreconciliation_changelist"), {"status__exact": "ok"})
    assert runs.status_code == 200
    page = runs.content.decode()
    assert "Mask" in page and "Rp" in page and "Rp 600" in page  # costs in Rupiah
    differences_url = reverse("admin:orders_smsdifference_changelist") + f"?run__id__exact={run.pk}"
    assert differences_url.replace("&", "&amp;") in page or differences_url in page

    listed = client.get(differences_url)
    assert listed.status_code == 200
    html = listed.content.decode()
    for order in (a, b, c):
        assert reverse("admin:orders_order_change", args=[order.pk]) in html
    assert "900" in html

    only_price = client.get(reverse("admin:orders_smsdifference_changelist"), {"kind__exact": "price"})
    assert only_price.status_code == 200 and "103" in only_price.content.decode()
    assert "102" not in only_price.content.decode()
    detail = client.get(reverse("admin:orders_smsreconciliation_change", args=[run.pk]))
    assert detail.status_code == 200 and f"run__id__exact={run.pk}" in detail.content.decode()
    assert client.get(reverse("admin:orders_smsreconciliation_add")).status_code == 403


def test_admin_pages_are_indonesian(client, operator, mask, day_with_every_difference):
    run = sms_reconcile_day(mask, today())
    client.force_login(operator)
    client.cookies["django_language"] = "id"
    pages = [
        reverse("admin:orders_smsreconciliation_changelist"),
        reverse("admin:orders_smsreconciliation_change", args=[run.pk]),
        reverse("admin:orders_smsdifference_changelist"),
    ]
    with untranslated_msgids() as misses:
        html = [client.get(url).content.decode() for url in pages]
    assert {m for m in misses if not m.endswith(" tasks")} == set()  # django-q's own menu is not ours
    assert "Rekonsiliasi SMS" in html[0] and "tidak ada saldo yang dikembalikan atau dipotong" in html[0]
    assert "terkirim di upstream, tidak dikenal panel" in html[2] and "Gateway menghitung 2 SMS, panel 1." in html[2]
    ours = ("orders.SmsReconciliation", "orders.SmsDifference", "providers.InboxMessage")
    assert [name for name in untranslatable_names() if name.startswith(ours)] == []


def test_admin_compare_again_action(client, operator, mask, upstream, day_with_every_difference):
    run = sms_reconcile_day(mask, today())
    upstream.sent = ProviderRejected("Username atau Password salah")
    client.force_login(operator)
    response = client.post(
        reverse("admin:orders_smsreconciliation_changelist"),
        {"action": "compare_again", "_selected_action": [run.pk]},
        follow=True,
    )
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == "failed" and "Username atau Password salah" in response.content.decode()


def test_resellers_never_see_the_reconciliation(client, reseller, mask, day_with_every_difference):
    sms_reconcile_day(mask, today())
    client.force_login(reseller)
    response = client.get(reverse("admin:orders_smsreconciliation_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
