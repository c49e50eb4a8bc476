"""Recording inbound delivery reports: stored at once, applied by the worker (orders.delivery)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.cache import cache
from django.db import transaction

from orders.models import CallbackEvent
from providers.adapters.types import DeliveryReport
from providers.models import Provider


def callback_record(provider: Provider, reports: Sequence[DeliveryReport]) -> None:
    """Store each report once; a duplicate delivery (same upstream id and code) is ignored."""
    CallbackEvent.objects.bulk_create(
        [
            CallbackEvent(
                provider=provider,
                external_id=r.external_id[:100],
                number=r.number[:32],
                state=r.state.value,
                code=r.code[:20],
                text=r.text[:200],
                payload=dict(r.raw),
            )
            for r in reports
        ],
        ignore_conflicts=True,
    )


KICK_KEY = "orders:callbacks:kick"


def callbacks_requested() -> None:
    """Have the worker apply the stored reports soon: at most one task queued a second from this process
    (1,000 reports arriving at once make one or two tasks, not 1,000). The refresh schedule applies any
    left over every minute. Replaced by an inline apply in the test suite's default fixture."""
    transaction.on_commit(_kick)


def _kick() -> None:
    if cache.add(KICK_KEY, 1, timeout=1):
        from django_q.tasks import async_task

        async_task("orders.tasks.apply_callbacks", task_name="apply delivery reports")
