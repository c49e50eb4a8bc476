"""Order placement on PostgreSQL with an in-process upstream stub and 8 concurrent clients, against pgbench.

Baseline: pgbench's TPC-B-like transactions/s with 8 clients (`pgbench -c 8 -j 2`) on a scratch database of
the same server, measured just before and just after the placement runs; the mean is the baseline, so a load
change on the machine during the run shows in both.

Placement: 8 clients, each with its own database connection and its own reseller, call
orders.services.order_place in a loop (SMM / OTP / prepaid / SMS mixed 4:3:2:1) through a stub adapter
that accepts at once. Only orders finished inside the measured window (after a warm-up) count. The figure
uses 8 worker *processes*, as a deployment runs them (gunicorn workers); the same run with 8 *threads* of one
process is printed too (it measures the GIL as much as the panel). Afterwards ledger_violations() must be
empty.

For the analysis it also prints the CPU each order costs on the client side (Python) and in the
PostgreSQL backends serving the clients (read from /proc), and the database-side ceiling these imply.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.db.models import Count

from bench.common import Report, create_database, drop_database, pg_env

CLIENTS = 8
TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"
TICK = os.sysconf("SC_CLK_TCK")
LINK = "https://instagram.com/p/Cbench12345"
SMS = "Kode verifikasi Anda 123456. Jangan berikan kode ini kepada siapa pun."


def pgbench(database: str, seconds: int) -> float:
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [PGBENCH, "-c", str(CLIENTS), "-j", "2", "-T", str(seconds), database],
        env=pg_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    match = TPS.search(result.stdout)
    if not match:
        raise RuntimeError(f"no tps in pgbench output:\n{result.stdout}\n{result.stderr}")
    return float(match.group(1))


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (a PostgreSQL backend), 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _plan(kinds: dict) -> list[dict]:
    """The traffic mix (SMM 4, OTP 3, prepaid 2, SMS 1), with this client's own Service instances."""
    from providers.models import Service

    services = {
        kind: Service.objects.select_related("provider").get(pk=product.service_id) for kind, product in kinds.items()
    }
    smm = services["smm"]
    plan = (
        [{"kind": "smm", "service": smm, "quantity": max(smm.min_qty, min(smm.max_qty, 1000)), "link": LINK}] * 4
        + [{"kind": "otp", "service": services["otp"], "operator": "any"}] * 3
        + [{"kind": "prepaid", "service": services["prepaid"], "target": "081234567890"}] * 2
    )
    plan.insert(5, {"kind": "sms", "sms_type": "reguler", "message": SMS, "recipients": "081234567890\n081298765432"})
    return plan


def _client(index: int, user_id: int, kinds: dict, start: float, end: float) -> dict:
    """Place orders until `end`; count those finished in [start, end). Runs in a thread or a process."""
    from accounts.models import User
    from orders.placement import order_place

    user = User.objects.get(pk=user_id)
    plan = _plan(kinds)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    done, errors, k = 0, [], index
    cpu0 = backend0 = None
    try:
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if cpu0 is None and now >= start:
                cpu0, backend0 = time.process_time(), _process_cpu(backend)
            try:
                order_place(user, source="api", **plan[k % len(plan)])
            except Exception as exc:  # counted and shown, never hidden
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                if start <= time.monotonic() < end:
                    done += 1
            k += 1
        return {
            "done": done,
            "errors": errors[:20],
            "cpu": time.process_time() - (cpu0 or 0),
            "backend_cpu": _process_cpu(backend) - (backend0 or 0),
        }
    finally:
        connection.close()


def _run_clients(mode: str, users: list[int], kinds: dict, warmup: float, seconds: float) -> dict:
    connection.close()  # nothing open may be shared with threads or forked processes
    start = time.monotonic() + warmup + (1.0 if mode == "processes" else 0.0)
    end = start + seconds
    results: list[dict] = []
    if mode == "threads":
        lock = threading.Lock()

        def target(i: int) -> None:
            outcome = _client(i, users[i], kinds, start, end)
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=target, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # process_time is per process, not per thread: the CPU figures come from the processes run.
        for outcome in results:
            outcome["cpu"] = 0.0
    else:
        context = multiprocessing.get_context("fork")
        out = context.Queue()

        def target(i: int) -> None:
            out.put(_client(i, users[i], kinds, start, end))

        processes = [context.Process(target=target, args=(i,)) for i in range(CLIENTS)]
        for process in processes:
            process.start()
        for _ in processes:
            try:
                results.append(out.get(timeout=seconds + warmup + 120))
            except queue.Empty:
                break
        for process in processes:
            process.join(timeout=30)
    placed = sum(r["done"] for r in results)
    return {
        "placed": placed,
        "rate": placed / seconds,
        "errors": [e for r in results for e in r["errors"]],
        "client_cpu": sum(r["cpu"] for r in results),
        "backend_cpu": sum(r["backend_cpu"] for r in results),
    }


def run(report: Report, *, names=None, quick: bool = False, prefix: str) -> None:
    from django.conf import settings

    from accounts.selectors import ledger_violations
    from accounts.services import reseller_create
    from bench.stub import install_stub_adapters
    from orders.models import Order
    from tooling.seed import catalogue_ensure

    seconds, warmup, scale = (4, 1, 2) if quick else (15, 2, 10)
    # The stub answers at once: let every client's OTP call through the provider's bulkhead (the guard is
    # measured by the slowupstream group; here it would only turn the threads run's OTP orders away).
    settings.PROVIDER_MAX_IN_FLIGHT = CLIENTS
    scratch = f"{prefix}_pgbench"
    create_database(scratch)
    try:
        subprocess.run(  # noqa: S603 - our own arguments, no shell
            [PGBENCH, "-i", "-q", "-s", str(scale), scratch], env=pg_env(), check=True, capture_output=True
        )
        tps_before = pgbench(scratch, seconds)
        report.note(f"pgbench -c {CLIENTS} -j 2 -T {seconds} (scale {scale}) before: {tps_before:,.1f} tps")

        catalogue = catalogue_ensure()
        kinds = {kind: products[0] for kind, products in catalogue.items()}
        install_stub_adapters()
        users = [
            reseller_create(username=f"bench-client-{i}", password=f"bench-{i}-Secret1", deposit=Decimal(10**9)).pk
            for i in range(CLIENTS)
        ]
        runs = {mode: _run_clients(mode, users, kinds, warmup, seconds) for mode in ("processes", "threads")}

        tps_after = pgbench(scratch, seconds)
        report.note(f"pgbench after: {tps_after:,.1f} tps")
        baseline = (tps_before + tps_after) / 2
        label = f"pgbench TPC-B tps, {CLIENTS} clients (mean of before/after)"
        for mode, outcome in runs.items():
            report.add(
                f"order placement, {CLIENTS} client {mode}",
                outcome["rate"],
                unit="orders/s",
                baseline=baseline,
                baseline_label=label,
                target=">= 0.4" if mode == "processes" else "",
                note=f"{outcome['placed']:,} orders in {seconds} s, {len(outcome['errors'])} errors",
            )
            for line in sorted(set(outcome["errors"]))[:5]:
                report.note(f"error: {line}")
        outcome = runs["processes"]
        if outcome["placed"]:
            per_client = 1000 * outcome["client_cpu"] / outcome["placed"]
            per_backend = 1000 * outcome["backend_cpu"] / outcome["placed"]
            report.add("client (Python) CPU per order", per_client, unit="ms")
            report.add("PostgreSQL backend CPU per order", per_backend, unit="ms")
            if per_backend:
                ceiling = (os.cpu_count() or 1) * 1000 / per_backend
                report.add(
                    "database-side ceiling (cores / backend CPU per order)",
                    ceiling,
                    unit="orders/s",
                    baseline=baseline,
                    baseline_label="pgbench tps",
                    note="what the server could take with the application on other cores",
                )
        statuses = dict(Order.objects.values_list("status").order_by().annotate(n=Count("pk")))
        report.note(f"orders by status: {statuses}")
        problems = ledger_violations()
        for line in problems[:10]:
            report.note(f"ledger violation: {line}")
        report.add("ledger_check violations after placement", len(problems), target="== 0")
    finally:
        connection.close()
        drop_database(scratch)
