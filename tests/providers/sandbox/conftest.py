from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from providers.sandbox.models import SandboxAccount


@pytest.fixture(autouse=True)
def sandbox_urls(settings):
    settings.ROOT_URLCONF = "tests.providers.sandbox.urls"
    settings.SANDBOX_ENABLED = True


@pytest.fixture
def make_account(db) -> Callable[..., SandboxAccount]:
    counter = {"n": 0}

    def make(kind: str, **fields: Any) -> SandboxAccount:
        counter["n"] += 1
        n = counter["n"]
        defaults: dict[str, Any] = {
            "name": f"{kind}-{n}",
            "api_key": f"key-{kind}-{n}",
            "user_id": str(1000 + n),
            "username": f"user{n}",
            "password": f"pass{n}",
            "balance": Decimal("100000"),
        }
        defaults.update(fields)
        return SandboxAccount.objects.create(kind=kind, **defaults)

    return make


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[tuple[str, str, bytes]]]]:
    """A tiny HTTP server on 127.0.0.1 (ephemeral port) recording what it receives, for DLRs."""
    received: queue.Queue[tuple[str, str, bytes]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.put((self.command, self.path, self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        do_GET = do_POST = record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/dlr", received
    server.shutdown()
    server.server_close()
