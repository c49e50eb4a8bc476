"""In-process upstreams for the benchmarks.

- `StubAdapter` / `install_stub_adapters()`: every adapter the panel builds accepts orders at once (no I/O),
  so order placement measures the panel and the database only.
- `StubServer`: a real HTTP server in a thread speaking VirtuSIM (`json.php`: order, active_order, status)
  and SMM v2 (`add`, `status` with `orders=`), so the refresh tick and the submitter go through the real
  adapters, requests and JSON, and every upstream call is counted. Each request can wait `latency` seconds,
  like a real vendor.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from providers.adapters import ADAPTERS
from providers.adapters.base import ProviderAdapter
from providers.adapters.types import (
    DeliveryState,
    OrderRequest,
    PlacedOrder,
    ProductKind,
    ProviderConfig,
    RecipientResult,
    Status,
    StatusResult,
)

_ids = itertools.count(10_000_000)
_ids_lock = threading.Lock()


class StubAdapter(ProviderAdapter):
    """Accepts every order immediately, like a fast upstream; statuses are "still pending"."""

    def __init__(self, config: ProviderConfig, real: type[ProviderAdapter]) -> None:
        super().__init__(config, session=object())  # never used: no HTTP
        self.kind, self.product_kind, self.capabilities = real.kind, real.product_kind, real.capabilities

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        with _ids_lock:
            external_id = str(next(_ids))
        if request.kind == ProductKind.SMS:
            recipients = tuple(
                RecipientResult(number=n, external_id=f"{external_id}-{i}", state=DeliveryState.QUEUED, code="10")
                for i, n in enumerate(request.recipients)
            )
            return PlacedOrder(external_id, Status.PROCESSING, "10", recipients=recipients)
        number = "6281299990000" if request.kind == ProductKind.OTP else ""
        return PlacedOrder(external_id, Status.PENDING, "Pending", number=number)

    def fetch_statuses(self, external_ids: Sequence[str]) -> list[StatusResult]:
        return [StatusResult(i, Status.PENDING, "Pending") for i in external_ids]


def install_stub_adapters() -> None:
    """Patch providers.services.get_adapter (what provider_adapter calls) for the whole process."""
    import providers.services

    def stub_get_adapter(kind: str, config: ProviderConfig, session=None) -> ProviderAdapter:
        return StubAdapter(config, ADAPTERS[kind])

    providers.services.get_adapter = stub_get_adapter


# --- HTTP upstream -------------------------------------------------------------------------------------------
@dataclass
class StubAccount:
    """What one upstream account answers: external id -> status reply entry."""

    protocol: str  # virtusim | smm_v2
    orders: dict[str, dict] = field(default_factory=dict)


class StubServer:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.accounts: dict[str, StubAccount] = {}
        self.calls: Counter[str] = Counter()
        self.placed: Counter[str] = Counter()  # smm_v2 `add` calls answered, per account
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, params: dict[str, str]) -> None:
                account = self.path.split("?", 1)[0].strip("/").split("/")[0]
                started = time.perf_counter()
                body = json.dumps(server.answer(account, params)).encode()
                remaining = server.latency - (time.perf_counter() - started)
                if remaining > 0:
                    time.sleep(remaining)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                self._answer({k: v[0] for k, v in query.items()})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                self._answer({k: v[0] for k, v in form.items()})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, account: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{account}/api"

    def add(self, account: str, protocol: str) -> StubAccount:
        self.accounts[account] = StubAccount(protocol)
        return self.accounts[account]

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def answer(self, account_name: str, params: dict[str, str]) -> object:
        with self._lock:
            self.calls[account_name] += 1
        account = self.accounts.get(account_name)
        if account is None:
            return {"error": "unknown account"}
        if account.protocol == "virtusim":
            action = params.get("action")
            if action == "active_order":
                return {"status": True, "data": list(account.orders.values())}
            if action == "order":  # a number at once (after the server's latency)
                with self._lock:
                    external_id = str(next(_ids))
                return {"status": True, "data": {"id": external_id, "number": "6281299990000"}}
            if action == "status":
                entry = account.orders.get(params.get("id", ""))
                if entry is None:
                    return {"status": False, "data": {"msg": "Pesanan tidak ditemukan"}}
                return {"status": True, "data": entry}
            return {"status": False, "data": {"msg": f"action {action} not in the stub"}}
        # smm_v2
        if params.get("action") == "add":
            with self._lock:
                self.placed[account_name] += 1
                return {"order": str(next(_ids))}
        if params.get("action") != "status":
            return {"error": "action not in the stub"}
        if "orders" in params:
            ids = params["orders"].split(",")
            return {i: account.orders.get(i, {"error": "Incorrect order ID"}) for i in ids}
        return account.orders.get(params.get("order", ""), {"error": "Incorrect order ID"})
