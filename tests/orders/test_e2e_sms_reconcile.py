"""The masking operator tools end to end against the upstream simulator over real HTTP (`live_server`):
the daily reconciliation reads the sandbox's reports_post.php, the inbox its inbox.php.

The sandbox's DLRs are switched off (no callback URL) and its orders' outcomes set directly, so no
timer thread and no rewinding of creation times is involved: the day stays the day the test runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.selectors import balance_of, ledger_violations
from orders.models import DifferenceKind
from orders.placement import order_place
from orders.reconcile import WIB, sms_reconcile_day
from providers.adapters.types import OrderRequest, ProductKind
from providers.inbox import inbox_fetch
from providers.models import InboxMessage, Service
from providers.sandbox.models import Fault, FaultScope, SandboxAccount, SandboxOrder
from providers.services import provider_adapter
from tests.orders.sandbox_shop import open_shop

pytestmark = pytest.mark.django_db(transaction=True)
START = Decimal("1000000.00")


@pytest.fixture
def shop(live_server, settings):
    shop = open_shop(live_server.url, settings)
    masking = shop.providers["masking_http"]
    Service.objects.filter(provider=masking, external_id="masking").update(route_priority=1)
    Service.objects.filter(provider=shop.providers["rajasms"], external_id="masking").update(route_priority=50)
    SandboxAccount.objects.filter(pk=shop.accounts["masking_http"].pk).update(callback_url="")
    return shop


def outcome(shop, number: str, code: str, minutes_ago: int = 2) -> None:
    """The sandbox's report for `number` says `code` from `minutes_ago` on."""
    SandboxOrder.objects.filter(account=shop.accounts["masking_http"], target=number).update(
        outcome=code, dlr_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_reconciliation_and_inbox_against_the_sandbox(shop, buyer):
    provider = shop.providers["masking_http"]
    today = timezone.localtime(timezone.now(), WIB).date()
    order = order_place(
        buyer, **shop.sms_request("masking", "081234567890", "081234567897", "081234567891", "081234567892")
    )
    assert order.provider == provider and order.status == "processing"
    ids = dict(order.recipients.values_list("number", "external_id"))

    # Agreeing: ...890 on the way on both sides, ...897 delivered on both sides (and answered "YA").
    outcome(shop, "6281234567897", "22")
    order.recipients.filter(number="6281234567897").update(state="delivered", code="22")
    # State: the gateway says ...891 failed (50), the panel still has it on the way.
    outcome(shop, "6281234567891", "50")
    # Missing upstream: the gateway's report no longer has ...892.
    SandboxOrder.objects.filter(account=shop.accounts["masking_http"], target="6281234567892").delete()
    # Unknown to the panel: sent on the same account by someone else than the panel.
    stranger = provider_adapter(provider).place_order(
        OrderRequest(kind=ProductKind.SMS, service_id="masking", message="x" * 170, recipients=("6281211112222",))
    )
    balance = balance_of(buyer)

    run = sms_reconcile_day(provider, today)

    assert run.status == "ok", run.reason
    assert sorted(run.differences.values_list("kind", "external_id", "order_id")) == sorted(
        [
            (DifferenceKind.MISSING, ids["6281234567892"], order.pk),
            (DifferenceKind.STATE, ids["6281234567891"], order.pk),
            (DifferenceKind.UNKNOWN, stranger.external_id, None),
        ]
    )
    assert (run.upstream_count, run.panel_count, run.matched_count) == (4, 4, 3)
    unknown = run.differences.get(kind=DifferenceKind.UNKNOWN)
    assert unknown.upstream_parts == 2 and unknown.number == "6281211112222"  # 170 characters: two SMS
    state = run.differences.get(kind=DifferenceKind.STATE)
    assert state.upstream_state == "50 Insufficient Credit Balance" and state.panel_state.startswith("queued")
    assert balance_of(buyer) == balance and ledger_violations() == []  # information only

    again = sms_reconcile_day(provider, today)
    assert again.pk == run.pk and again.differences.count() == 3

    # The sandbox's inbox: the delivered SMS to a number ending in 7 is answered a minute later.
    first = inbox_fetch(provider)
    assert (first.fetched, first.stored, first.error) == (1, 1, "")
    assert inbox_fetch(provider).stored == 0
    message = InboxMessage.objects.get()
    assert (message.provider, message.number, message.text) == (provider, "6281234567897", "YA")

    # A gateway error is a failed run with its reason, over HTTP too.
    shop.set_fault("masking_http", Fault.HTML502, FaultScope.STATUS)
    failed = sms_reconcile_day(provider, today)
    assert failed.pk == run.pk and failed.status == "failed" and "502" in failed.reason
    assert failed.differences.count() == 0
    assert not any(secret in failed.reason for secret in shop.secrets)
