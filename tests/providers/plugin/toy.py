"""A throw-away sixth upstream, "toy": an SMM-like JSON API with a bearer token of its own.

Written the way docs/adding-a-provider.md says: an adapter class and a sandbox protocol, nothing else.
The test registers both at run time (a real one is found by being a module in the two packages).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.urls import path

from providers.adapters.base import Credential, ProviderAdapter
from providers.adapters.types import (
    Capability,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ServiceInfo,
    Status,
    StatusResult,
)
from providers.adapters.values import Record
from providers.sandbox.common import json_reply, params, sandbox_endpoint
from providers.sandbox.faults import Scope, with_fault
from providers.sandbox.models import SandboxAccount, SandboxOrder
from providers.sandbox.protocols import SandboxProtocol
from providers.sandbox.services import place_order

KIND = "toy"
TOKEN = Credential("toy_token", "Toy token")
PRICE = Decimal("2000")  # per 1000


class ToyAdapter(ProviderAdapter):
    kind = KIND
    title = "Toy SMM (test)"
    product_kind = ProductKind.SMM
    credentials = (TOKEN,)
    capabilities = frozenset({Capability.SERVICES, Capability.MULTI_STATUS})
    status_map = {"queued": Status.PENDING, "done": Status.COMPLETED}

    def _call(self, **data: str) -> object:
        headers = {"Authorization": f"Bearer {self.config.credentials.get(TOKEN.name, '')}"}
        response = self.request("POST", self.config.base_url, data=data, headers=headers)
        with self.reading(response):
            return self.json_reply(response)

    def fetch_services(self) -> list[ServiceInfo]:
        return [
            ServiceInfo(
                external_id=item.ident("id"),
                name=item.text("name", required=True),
                category="Toy",
                kind=ProductKind.SMM,
                cost=item.decimal("price"),
                min_qty=10,
                max_qty=1000,
            )
            for item in Record(self._call(action="services")).records("services")
        ]

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        reply = Record(self._call(action="add", service=request.service_id, quantity=str(request.quantity)))
        return PlacedOrder(external_id=reply.ident("order"), status=self.map_status("queued"), raw_status="queued")

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        reply = Record(self._call(action="status", ids=",".join(external_ids)))
        return [
            StatusResult(external_id=i, status=self.map_status(reply.record(i).text("status")), raw_status="")
            for i in external_ids
        ]


# --- the simulated vendor ---------------------------------------------------------------------------
def _account(request: HttpRequest) -> SandboxAccount | None:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return SandboxAccount.objects.filter(kind=KIND, api_key=token).first() if token else None


@sandbox_endpoint
def endpoint(request: HttpRequest) -> HttpResponse:
    account, p = _account(request), params(request)
    if account is None:
        return json_reply({"error": "bad token"}, status=401)
    action = p.get("action")
    if action == "services":
        return json_reply({"services": [{"id": "7", "name": "Toy Likes", "price": str(PRICE)}]})
    if action == "add":

        def add() -> HttpResponse:
            quantity = int(p.get("quantity", "0"))
            order = place_order(account, PRICE * quantity / 1000, service_id=p["service"], quantity=quantity)
            return json_reply({"order": order.external_id} if order else {"error": "no balance"})

        return with_fault(account, Scope.ORDER, add)
    if action == "status":
        ids = p.get("ids", "").split(",")
        orders = SandboxOrder.objects.filter(account=account, external_id__in=ids)
        known = set(orders.values_list("external_id", flat=True))
        return json_reply({i: {"status": "done" if i in known else "missing"} for i in ids})
    return json_reply({"error": "unknown action"}, status=400)


def _credentials() -> dict[str, str]:
    return {"api_key": "toy-token-0123456789"}


PROTOCOL = SandboxProtocol(
    kind=KIND,
    title="Toy SMM",
    base_path="toy/api",
    urls=[path("toy/api", endpoint, name="toy")],
    external_id=lambda pk: f"TOY-{pk}",
    demo_provider="Sandbox Toy",
    demo_balance=Decimal("100000"),
    wrong_types={"order": ["oops"]},
    demo_credentials=_credentials,
    provider_credentials=lambda account: {TOKEN.name: account.api_key},
)
