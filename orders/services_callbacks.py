"""Recording inbound delivery reports."""

from __future__ import annotations

from collections.abc import Sequence

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
