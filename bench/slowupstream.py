"""The production server in front of a slow upstream: acceptance, other visitors, and the drain.

Setup: an SMM v2 and a VirtuSIM provider on the in-process HTTP stub (bench.stub.StubServer, whose latency
can change between runs), 20 resellers with their own API keys, the real production server
(`gunicorn -c deploy/gunicorn.conf.py panel.wsgi`, DJANGO_ENV=production) and one `manage.py qcluster`
worker on this run's database. 20 client threads place SMM orders over HTTP through `POST /api/v2` while a
visitor asks `/healthz` every 50 ms.

Figures:
- accepted SMM orders/s with a 3 s upstream vs the same run with a 0 s upstream (goal >= 0.8), the clients
  sending as fast as they are answered (which saturates both cores: /healthz meanwhile is printed too);
- `/healthz` p99 vs idle while the same clients send a steady 40 orders/s to a 3 s upstream (goal <= 3);
- the drain: 300 orders accepted at once, then sent by the worker to a 3 s upstream (goal <= 120 s);
- OTP orders (`/api/json.php?action=order`, which waits for its number) with a 3 s upstream: the
  answers and `/healthz` p99 meanwhile vs idle (goal <= 3).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import requests

from bench.common import Report

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 20
SLOW = 3.0
LINK = "https://instagram.com/p/Cbench12345"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(port: int) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "bench-" + "k" * 60,
            "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,  # the credentials this process stored
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "ADMIN_2FA": "0",
            "LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "API_RATE_LIMIT": "1000000",  # the clients are the load, not abusers
            "Q_CLUSTER_NAME": f"bench{os.getpid()}",
        }
    )
    env.pop("REDIS_URL", None)
    return env


def _setup(stub, clients: int) -> dict:
    from accounts.services import apikey_rotate, reseller_create
    from providers.adapters.types import ProductKind, ServiceInfo
    from providers.pricing import pricing_refresh
    from providers.services import provider_save
    from providers.sync import catalogue_apply

    smm, _ = provider_save(name="Slow SMM", kind="smm_v2", base_url=stub.url("smm"), api_key="bench-smm-key")
    smm2, _ = provider_save(name="Slow SMM 2", kind="smm_v2", base_url=stub.url("smm2"), api_key="bench-smm2-key")
    otp, _ = provider_save(name="Slow OTP", kind="virtusim", base_url=stub.url("otp"), api_key="bench-otp-key")
    stub.add("smm", "smm_v2")
    stub.add("smm2", "smm_v2")
    stub.add("otp", "virtusim")
    catalogue_apply(smm, [ServiceInfo("1", "IG Likes", "Instagram", ProductKind.SMM, Decimal("1000"), 10, 100000)])
    catalogue_apply(smm2, [ServiceInfo("2", "TikTok Views", "TikTok", ProductKind.SMM, Decimal("500"), 10, 100000)])
    catalogue_apply(otp, [ServiceInfo("7", "WhatsApp", "OTP", ProductKind.OTP, Decimal("900"), stock=10_000)])
    pricing_refresh()
    keys = []
    for i in range(clients):
        user = reseller_create(username=f"slow{i:02d}", password=f"bench-pw-{i}-Secret", deposit=Decimal("100000000"))
        keys.append(apikey_rotate(user))
    from providers.models import Service

    return {
        "keys": keys,
        "smm": Service.objects.get(provider=smm).pk,
        "smm2": Service.objects.get(provider=smm2).pk,
        "otp": Service.objects.get(provider=otp).pk,
    }


class Servers:
    """gunicorn and one qcluster, started and stopped as process groups."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Servers:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        for cmd in (
            [gunicorn, "-c", "deploy/gunicorn.conf.py", "panel.wsgi"],
            [sys.executable, "manage.py", "qcluster"],
        ):
            self.procs.append(
                subprocess.Popen(  # noqa: S603 - our own commands
                    cmd,
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _wait_up(base: str) -> None:
    for _ in range(120):
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("the production server did not come up")


class Visitor:
    """Asks /healthz every 50 ms and keeps the latencies."""

    def __init__(self, base: str) -> None:
        self.base, self.latencies = base, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                session.get(self.base + "/healthz", timeout=60)
            except requests.RequestException:
                pass
            self.latencies.append(time.perf_counter() - started)
            self._stop.wait(0.05)

    def __enter__(self) -> Visitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def p99(self) -> float:
        return self.quantile(0.99)

    def quantile(self, q: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")

    def spread(self) -> str:
        ms = [self.quantile(q) * 1000 for q in (0.5, 0.9, 0.99)] + [max(self.latencies or [0]) * 1000]
        return "p50 {:.0f} / p90 {:.0f} / p99 {:.0f} / max {:.0f} ms over {} requests".format(*ms, len(self.latencies))


def _healthz(report: Report, name: str, visitor: Visitor, idle_p99: float, **kwargs) -> None:
    """/healthz p99 of `visitor` as a figure against the idle baseline (ratio target in kwargs, if any)."""
    report.add(name, visitor.p99() * 1000, unit="ms", baseline=idle_p99 * 1000, baseline_label="idle", **kwargs)


def _burst(
    base: str, keys: list[str], seconds: float, body, limit: int | None = None, interval: float = 0.0
) -> tuple[Counter, float]:
    """CLIENTS threads POST until `seconds` pass (or `limit` orders are accepted), each at most once per
    `interval` seconds (0: as fast as the server answers). Returns the answers and the time taken."""
    answers: Counter = Counter()
    lock = threading.Lock()
    end = time.monotonic() + seconds
    started = time.monotonic()

    def client(key: str) -> None:
        session = requests.Session()
        # Paced clients start at random points of their interval, as real ones do: in lockstep, 20 requests
        # would land together every interval and every visitor in between would wait behind the lot.
        next_at = time.monotonic() + random.uniform(0, interval)
        time.sleep(max(next_at - time.monotonic(), 0))
        while time.monotonic() < end:
            with lock:
                if limit is not None and answers["accepted"] >= limit:
                    return
            next_at += interval
            path, data = body(key)
            try:
                reply = session.post(base + path, data=data, timeout=60)
                word = _verdict(reply)
            except requests.RequestException as exc:
                word = type(exc).__name__
            with lock:
                answers[word] += 1
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    threads = [threading.Thread(target=client, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, time.monotonic() - started


def _verdict(reply: requests.Response) -> str:
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}"
    data = reply.json()
    if data.get("order") or (data.get("status") is True and isinstance(data.get("data"), dict)):
        return "accepted"
    message = data.get("error") or (data.get("data") or {}).get("msg") or "refused"
    return f"refused: {message}"


def _drained(after_id: int, timeout: float, service: int | None = None) -> float | None:
    from orders.models import Order

    waiting = Order.objects.filter(pk__gt=after_id, status="submitting")
    if service is not None:
        waiting = waiting.filter(service_id=service)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not waiting.exists():
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def _last_id() -> int:
    from orders.models import Order

    return Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def run(report: Report, *, names=None, quick: bool = False, prefix: str) -> None:
    from django.conf import settings

    from accounts.selectors import ledger_violations
    from bench.stub import StubServer
    from orders.models import Order

    seconds = 5 if quick else 10
    drain_orders = 60 if quick else 300
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with StubServer(latency=0.0) as stub:
        ids = _setup(stub, CLIENTS)
        keys = ids["keys"]

        def smm_add(key: str, service: str = "smm"):
            return "/api/v2", {"key": key, "action": "add", "service": ids[service], "link": LINK, "quantity": "100"}

        def smm2_add(key: str):
            return smm_add(key, "smm2")

        def otp_order(key: str):
            return "/api/json.php", {"api_key": key, "action": "order", "service": ids["otp"], "operator": "any"}

        from django.db import connection

        connection.close()
        with Servers(_env(port)):
            _wait_up(base)
            # Warm up every gunicorn process (imports, connections) before the idle baseline is taken.
            _burst(base, keys, 2, smm_add, interval=0.2)
            _drained(0, 60)
            with Visitor(base) as idle:
                time.sleep(seconds)
            idle_p99 = idle.p99()
            report.note(f"/healthz idle: {idle.spread()}")

            # Capacity: 20 clients as fast as the server answers, 0 s then 3 s upstream.
            fast, fast_time = _burst(base, keys, min(seconds, 5), smm_add)
            fast_rate = fast["accepted"] / fast_time
            report.note(f"0 s upstream, clients as fast as answered: {dict(fast)} in {fast_time:.1f} s")
            _drained(0, 120)
            stub.latency = SLOW
            with Visitor(base) as saturated:  # 5 s: its backlog takes the one lane minutes to send
                slow, slow_time = _burst(base, keys, min(seconds, 5), smm_add)
            report.note(f"{SLOW:g} s upstream, clients as fast as answered: {dict(slow)} in {slow_time:.1f} s")
            report.add(
                f"accepted SMM orders/s, {SLOW:g} s upstream",
                slow["accepted"] / slow_time,
                unit="orders/s",
                baseline=fast_rate,
                baseline_label="0 s upstream",
                target=">= 0.8",
                note=f"{CLIENTS} API clients as fast as answered, over HTTP, production server",
            )
            _healthz(
                report,
                "/healthz p99 while the server is saturated",
                saturated,
                idle_p99,
                note="both cores busy with the clients, the server, PostgreSQL and the worker: CPU-bound, for context",
            )

            # Latency for others: the same clients at a steady 2 orders/s each (40/s), 3 s upstream.
            with Visitor(base) as busy:
                steady, steady_time = _burst(base, keys, seconds, smm_add, interval=0.5)
            report.note(f"{SLOW:g} s upstream, {CLIENTS} clients at 2 orders/s each: {dict(steady)}")
            report.note(f"/healthz meanwhile: {busy.spread()}")
            _healthz(
                report,
                f"/healthz p99 while {CLIENTS} clients order 40/s from a {SLOW:g} s upstream",
                busy,
                idle_p99,
                target="<= 3",
                note=f"{steady['accepted'] / steady_time:.1f} orders/s accepted",
            )

            # The drain, on a second provider while the first one's backlog is still being sent: its own lane.
            backlog = Order.objects.filter(service_id=ids["smm"], status="submitting").count()
            first = _last_id()
            started = time.monotonic()
            burst, _ = _burst(base, keys, 120, smm2_add, limit=drain_orders)
            drained = _drained(first, 600, service=ids["smm2"])
            total = time.monotonic() - started if drained is not None else float("inf")
            report.add(
                f"{burst['accepted']} SMM orders accepted and sent to a {SLOW:g} s upstream",
                total,
                unit="s",
                target="<= 120",
                note=f"{settings.SUBMIT_CONCURRENCY} lanes per provider, one worker, while another provider "
                f"still had {backlog} orders to send",
            )

            with Visitor(base) as during_otp:
                otp, otp_time = _burst(base, keys, seconds, otp_order, interval=1.0)
            report.note(f"OTP with a {SLOW:g} s upstream: {dict(otp)} in {otp_time:.1f} s")
            report.note(f"/healthz meanwhile: {during_otp.spread()}")
            _healthz(
                report,
                f"/healthz p99 while {CLIENTS} clients ask 1 OTP number/s each from a {SLOW:g} s upstream",
                during_otp,
                idle_p99,
                target="<= 3",
                note=f"{otp['accepted']} numbers in {otp_time:.0f} s; the rest refused at once while the bulkhead "
                "was full, nothing charged",
            )
            drained = _drained(0, 900)
            report.note(f"every order sent upstream {drained or float('nan'):.0f} s after the OTP run")
    stuck = Order.objects.filter(status="submitting").count()
    report.add("orders left unsent", stuck, target="== 0")
    report.add("ledger violations", len(ledger_violations()), target="== 0")
    report.note(f"median /healthz at 40 orders/s: {statistics.median(busy.latencies) * 1000:.1f} ms")
