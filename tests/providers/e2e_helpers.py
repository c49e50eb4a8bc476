"""Helpers for running the real adapters against the sandbox over HTTP (`live_server`): a session
that records every request an adapter makes, a delivery-report receiver, a port nobody listens on
and a way to make sandbox time pass."""

from __future__ import annotations

import contextlib
import queue
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.db import connections
from django.db.models import F
from requests.adapters import HTTPAdapter

from providers.adapters.http import USER_AGENT
from providers.sandbox import dlr
from providers.sandbox.models import SandboxRefill
from tests.providers.sandbox.helpers import rewind

__all__ = [
    "Call",
    "CountingSession",
    "close_and_settle",
    "closed_port",
    "dlr_receiver",
    "hang_up",
    "rewind",
    "rewind_refills",
    "server_threads",
    "share_live_server_connection",
    "wait_for",
    "wait_for_server_threads",
]


@dataclass(frozen=True)
class Call:
    method: str
    host: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    json: Any = None

    @property
    def action(self) -> str:
        """VirtuSIM / SMM `action`, Osimesa `type`, else the script name (`send.php`, `report.php`)."""
        for source in (self.params, self.form):
            for key in ("action", "type"):
                if key in source:
                    return str(source[key])
        return self.path.rsplit("/", 1)[-1]


class CountingSession(requests.Session):
    """A `requests.Session` (no retries, like `make_session`) that records each request it sends."""

    def __init__(self) -> None:
        super().__init__()
        adapter = HTTPAdapter(max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = USER_AGENT
        self.calls: list[Call] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        params, form = kwargs.get("params") or {}, kwargs.get("data") or {}
        self.calls.append(
            Call(
                method=str(method).upper(),
                host=urlsplit(str(url)).hostname or "",
                path=urlsplit(str(url)).path,
                params={str(k): str(v) for k, v in dict(params).items()},
                form={str(k): str(v) for k, v in dict(form).items()} if isinstance(form, Mapping) else {},
                json=kwargs.get("json"),
            )
        )
        return super().request(method, url, *args, **kwargs)

    def close(self) -> None:
        """Close the pooled connections now. urllib3 2 drops its pools on `clear()` and leaves their
        sockets to garbage collection, which a Response held in a reference cycle delays (a
        `pytest.raises(...) as caught` keeps the traceback, whose frames keep the Response)."""
        for adapter in self.adapters.values():
            pools = getattr(getattr(adapter, "poolmanager", None), "pools", None)
            for key in pools.keys() if pools is not None else ():
                pool = pools.get(key)
                if pool is not None:
                    pool.close()
        super().close()

    @property
    def actions(self) -> list[str]:
        return [call.action for call in self.calls]

    def reset(self) -> None:
        self.calls.clear()


def rewind_refills(seconds: float, **filters: Any) -> None:
    """Move SMM refills back in time (`rewind` moves orders only)."""
    SandboxRefill.objects.filter(**filters).update(created_at=F("created_at") - timedelta(seconds=seconds))


def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def server_threads(live_server: Any, ignore: frozenset[threading.Thread] = frozenset()) -> list[threading.Thread]:
    """The live server's request threads still running (daemon threads, so socketserver keeps no list),
    except `ignore`: the live server is shared by the whole session, and a thread parked by another
    module's kept-alive connection is not this test's business."""
    httpd = getattr(live_server.thread, "httpd", None)
    return [
        thread
        for thread in threading.enumerate()
        if httpd is not None
        and getattr(getattr(thread, "_target", None), "__self__", None) is httpd
        and thread not in ignore
    ]


def close_and_settle(
    sessions: list[requests.Session],
    live_server: Any,
    seconds: float = 5.0,
    ignore: frozenset[threading.Thread] = frozenset(),
) -> bool:
    """Close the client sessions and wait until the live server has no request thread left, so none
    touches the shared test database after the test is over (a DatabaseError or "Database access not
    allowed" in a stray thread otherwise): a kept-alive connection parks a server thread until its
    socket closes, and a sandbox fault still sleeping is waited out."""
    for session in sessions:
        session.close()
    return wait_for_server_threads(live_server, seconds, ignore)


def hang_up(live_server: Any, seconds: float = 10.0) -> bool:
    """The server side of close_and_settle, when the clients' sessions are out of reach (the adapters never
    close theirs): shut the sockets of the parked request threads, then wait for the threads to end."""
    for thread in server_threads(live_server):
        request = thread._args[0] if getattr(thread, "_args", None) else None
        if isinstance(request, socket.socket):
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
    return wait_for_server_threads(live_server, seconds)


def wait_for_server_threads(
    live_server: Any, seconds: float = 5.0, ignore: frozenset[threading.Thread] = frozenset()
) -> bool:
    """Wait until the live server has no request in flight (but `ignore`); print the stacks of those left."""
    if wait_for(lambda: not server_threads(live_server, ignore), seconds):
        return True
    frames = sys._current_frames()
    for thread in server_threads(live_server, ignore):
        stack = "".join(traceback.format_stack(frames[thread.ident])) if thread.ident in frames else "?"
        print(f"still running: {thread.name}\n{stack}", file=sys.stderr)
    return False


def share_live_server_connection(monkeypatch: pytest.MonkeyPatch, live_server: Any) -> None:
    """Run the sandbox's DLR timer threads on the live server's database connection, as Django runs
    the server's own request threads (`connections_override`). With the in-memory SQLite test
    database a thread of its own would open a second shared-cache connection, whose table locks
    fail at once ("database table is locked") instead of waiting, so overlapping callbacks flake."""
    overrides = dict(live_server.thread.connections_override or {})
    real_run = dlr._run

    def run(order_id: int) -> None:
        for alias, conn in overrides.items():
            connections[alias] = conn
        real_run(order_id)

    monkeypatch.setattr(dlr, "_run", run)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    body: bytes
    content_type: str

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))


@contextmanager
def dlr_receiver() -> Iterator[tuple[str, queue.Queue[Received]]]:
    """A tiny HTTP server on 127.0.0.1 (ephemeral port) recording the callbacks the sandbox sends."""
    received: queue.Queue[Received] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            received.put(Received(self.command, self.path, body, self.headers.get("Content-Type", "")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        do_GET = do_POST = record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/dlr", received
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A local port nobody listens on (bound once by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
