"""A tiny HTTP server recording what the panel POSTs (RajaSMS: JSON) or GETs (masking: a query string) to a
reseller's callback URL, with a switchable reply status and delay (import explicitly)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Receiver:
    url: str
    status: int = 200
    delay: float = 0.0
    received: queue.Queue = field(default_factory=queue.Queue)

    def bodies(self) -> list[Any]:
        items = []
        while not self.received.empty():
            items.append(self.received.get_nowait())
        return items


@contextmanager
def callback_receiver(path: str = "/dlr") -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            self._record({"json": json.loads(body or b"null")})

        def do_GET(self) -> None:
            query = {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}
            self._record({"method": "GET", "query": query})

        def _record(self, what: dict[str, Any]) -> None:
            if receiver.delay:
                time.sleep(receiver.delay)
            receiver.received.put({"path": self.path, "host": self.headers.get("Host"), **what})
            try:
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"OK")
            except OSError:  # the client gave up waiting (a timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}{path}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
