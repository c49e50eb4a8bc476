"""A programmable upstream for order tests: every adapter the panel builds becomes a FakeAdapter sharing
one FakeUpstream, so a test scripts what the provider answers and counts what was asked."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from providers.adapters import ADAPTERS
from providers.adapters.base import ProviderAdapter
from providers.adapters.types import (
    ActionResult,
    DeliveryReport,
    DeliveryState,
    IncomingSms,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderBalance,
    ProviderConfig,
    RecipientResult,
    RefillResult,
    SentSms,
    Status,
    StatusResult,
)

Outcome = PlacedOrder | Exception | Callable[[OrderRequest], PlacedOrder]


@dataclass
class FakeUpstream:
    place: list[Outcome] = field(default_factory=list)  # consumed in order; empty -> accept
    statuses: dict[str, StatusResult] = field(default_factory=dict)
    status_error: Exception | None = None
    action_error: Exception | None = None
    reports: dict[str, DeliveryReport] = field(default_factory=dict)
    recent: list[StatusResult] = field(default_factory=list)
    sent: list[SentSms] | Exception = field(default_factory=list)  # download_report (SMS gateways)
    inbox: list[IncomingSms] | Exception = field(default_factory=list)
    calls: list[tuple] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(5000))

    def set_status(self, external_id: str, status: Status, raw: str = "", **fields) -> None:
        self.statuses[external_id] = StatusResult(external_id, status, raw or status.value, **fields)

    def count(self, name: str) -> int:
        return sum(1 for call in self.calls if call[0] == name)


class FakeAdapter(ProviderAdapter):
    upstream: FakeUpstream

    def __init__(self, config: ProviderConfig, real: type[ProviderAdapter], upstream: FakeUpstream) -> None:
        super().__init__(config)
        self.kind, self.product_kind, self.capabilities = real.kind, real.product_kind, real.capabilities
        self.upstream = upstream

    def effective_capabilities(self):
        return self.capabilities

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        self.upstream.calls.append(("place", self.config.name, request))
        outcome = self.upstream.place.pop(0) if self.upstream.place else None
        if isinstance(outcome, Exception):
            raise outcome
        if callable(outcome):
            return outcome(request)
        if outcome is not None:
            return outcome
        external_id = str(next(self.upstream.ids))
        if request.kind == ProductKind.SMS:
            recipients = tuple(
                RecipientResult(number=n, external_id=f"{external_id}-{i}", state=DeliveryState.QUEUED, code="10")
                for i, n in enumerate(request.recipients)
            )
            return PlacedOrder(
                external_id=external_id, status=Status.PROCESSING, raw_status="10", recipients=recipients
            )
        number = "6281299990000" if request.kind == ProductKind.OTP else ""
        return PlacedOrder(external_id=external_id, status=Status.PENDING, raw_status="Pending", number=number)

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        self.upstream.calls.append(("statuses", self.config.name, tuple(external_ids)))
        if self.upstream.status_error:
            raise self.upstream.status_error
        return [self.upstream.statuses[i] for i in external_ids if i in self.upstream.statuses]

    def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        self.upstream.calls.append(("reports", self.config.name, tuple(external_ids)))
        return [self.upstream.reports[i] for i in external_ids if i in self.upstream.reports]

    def recent_orders(self, limit: int = 15) -> list[StatusResult]:
        self.upstream.calls.append(("recent", self.config.name))
        return list(self.upstream.recent)

    def download_report(self, start, end) -> list[SentSms]:
        self.upstream.calls.append(("download_report", self.config.name, start, end))
        if isinstance(self.upstream.sent, Exception):
            raise self.upstream.sent
        return list(self.upstream.sent)

    def inbox(self) -> list[IncomingSms]:
        self.upstream.calls.append(("inbox", self.config.name))
        if isinstance(self.upstream.inbox, Exception):
            raise self.upstream.inbox
        return list(self.upstream.inbox)

    def _action(self, name: str, external_id: str) -> ActionResult:
        self.upstream.calls.append((name, self.config.name, external_id))
        if self.upstream.action_error:
            raise self.upstream.action_error
        return ActionResult(ok=True, message="ok")

    def ready(self, external_id: str) -> ActionResult:
        return self._action("ready", external_id)

    def cancel(self, external_id: str) -> ActionResult:
        return self._action("cancel", external_id)

    def resend(self, external_id: str) -> ActionResult:
        return self._action("resend", external_id)

    def done(self, external_id: str) -> ActionResult:
        return self._action("done", external_id)

    def refill(self, external_id: str) -> RefillResult:
        self._action("refill", external_id)
        return RefillResult(refill_id="R1")

    def fetch_balance(self) -> ProviderBalance:
        return ProviderBalance(Decimal("1000000"))


def install(monkeypatch) -> FakeUpstream:
    upstream = FakeUpstream()

    def fake_get_adapter(kind: str, config: ProviderConfig, session=None) -> ProviderAdapter:
        return FakeAdapter(config, ADAPTERS[kind], upstream)

    monkeypatch.setattr("providers.services.get_adapter", fake_get_adapter)
    return upstream
