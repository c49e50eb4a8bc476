"""Scale-out: two django-q2 clusters on the Redis broker and PostgreSQL refresh the same few hundred active
orders against the sandbox at the same time. Every order must reach its final state, none may be refunded
twice, and the books must balance.

Needs PostgreSQL (DATABASE_URL) and the Redis broker (REDIS_URL) for the whole pytest run, because the test
process enqueues tasks through the same broker the workers read: `.ci/run` runs it in a step of its own
(`-m scaleout`); anywhere else it is skipped with that reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_q.models import Schedule, Success

from accounts.models import LedgerEntry
from accounts.selectors import ledger_violations
from orders.models import Order
from orders.placement import order_place
from orders.schedules import PREFIX as SCHEDULE_PREFIX
from orders.schedules import schedules_install
from providers.models import Provider, Service
from providers.pricing import pricing_refresh
from providers.sandbox.models import SandboxAccount
from providers.sync import catalogue_sync
from tests.helpers import USES_POSTGRES
from tooling.sandbox_providers import sandbox_providers_ensure

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        not (USES_POSTGRES and os.environ.get("REDIS_URL")),
        reason="needs PostgreSQL and the Redis broker for the whole run: "
        "DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/15 make test PYTEST_ARGS='-m scaleout'",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ORDERS_PER_KIND = {"smm": 150, "otp": 75, "prepaid": 75}  # 300 active orders
FINAL = ["completed", "partial", "canceled", "failed"]
REFRESH, EXPIRE = "orders.tasks.refresh_orders", "orders.tasks.expire_otp_orders"


def _worker_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": os.environ["REDIS_URL"],
        "Q_CLUSTER_NAME": settings.Q_CLUSTER["name"],
        "Q_WORKERS": "2",
        "Q_TIMEOUT": "300",  # a loaded 2-core CI machine; a task is never handed out twice before this
        "OTP_EXPIRY_MINUTES": "0",
        "PROVIDER_READ_TIMEOUT": "10",
    }


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left


@pytest.fixture
def two_clusters(tmp_path):
    import redis

    # Start from an empty queue: tasks left by an earlier run would refresh our orders before we look.
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    pattern = f"django_q:{settings.Q_CLUSTER['name']}:*"
    client.delete(*(client.keys(pattern) or ["-"]))
    env = _worker_env()
    procs = []
    for n in range(2):
        # A log file, not a pipe: nobody reads a pipe while the test waits, and a full pipe blocks the worker.
        log = (tmp_path / f"qcluster{n}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its worker children too
        )
        proc.log_path = Path(log.name)
        procs.append(proc)
    yield procs
    for proc in procs:
        stop_group(proc)
    client.delete(*(client.keys(pattern) or ["-"]))


def _log_tail(proc: subprocess.Popen, chars: int = 1500) -> str:
    return proc.log_path.read_text(errors="replace")[-chars:]


def _open_shop(live_url: str, make_reseller):
    sandbox_providers_ensure(live_url)
    SandboxAccount.objects.update(
        otp_delay_seconds=2, smm_step_seconds=2, prepaid_delay_seconds=2, balance=10**12, fault="none"
    )
    for provider in Provider.objects.exclude(kind__in=["rajasms", "masking_http"]):
        catalogue_sync(provider)
    pricing_refresh()
    return make_reseller("grosir", deposit=500_000_000)


def _services(kind: str) -> list[Service]:
    qs = Service.objects.filter(kind=kind, is_active=True, in_stock=True, prices__on_sale=True).distinct()
    if kind == "smm":
        qs = qs.filter(min_qty__lte=1000, max_qty__gte=1000)
    if kind == "prepaid":
        qs = qs.filter(cutoff_start__isnull=True)
    return list(qs.order_by("pk")[:5])


def test_two_clusters_refresh_the_same_orders_without_double_refunds(live_server, make_reseller, two_clusters):
    from django_q.tasks import async_task, result

    settings.SANDBOX_ENABLED = True
    buyer = _open_shop(live_server.url, make_reseller)
    placed: list[Order] = []
    for kind, count in ORDERS_PER_KIND.items():
        services = _services(kind)
        assert services, f"the sandbox catalogue has no {kind} service on sale"
        for i in range(count):
            service = services[i % len(services)]
            fields = {
                "smm": {"link": f"https://instagram.com/{['toko', 'partial', 'cancel'][i % 3]}{i}", "quantity": 1000},
                "otp": {"operator": "any"},
                "prepaid": {"target": f"0812{i:06d}{'99' if i % 4 == 0 else '10'}"},
            }[kind]
            placed.append(order_place(buyer, kind=kind, service=service, **fields))
    ids = [o.pk for o in placed]
    not_placed = list(
        Order.objects.filter(pk__in=ids)
        .exclude(status__in=["pending", "processing"])
        .values_list("status", "error")[:5]
    )
    assert not not_placed, not_placed

    # The clusters' own schedulers run the real schedules (due now, then every minute; whichever cluster's
    # scheduler claims a run enqueues it). On top of that each round hands both clusters the same work at once
    # (two refreshes, two expiries), the way two schedulers firing together would, and waits for it to finish.
    schedules_install()
    Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX).update(next_run=timezone.now())
    deadline = time.monotonic() + 240
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        tasks = [async_task(f) for f in (REFRESH, REFRESH, EXPIRE, EXPIRE)]
        for task_id in tasks:
            result(task_id, wait=120_000)
        for proc in two_clusters:
            assert proc.poll() is None, _log_tail(proc)
        scheduled_runs = Success.objects.filter(group__startswith=SCHEDULE_PREFIX, func=REFRESH).count()
        if scheduled_runs and not Order.objects.filter(pk__in=ids).exclude(status__in=FINAL).exists():
            break
        time.sleep(1)
    open_orders = list(
        Order.objects.filter(pk__in=ids).exclude(status__in=FINAL).values_list("pk", "kind", "status")[:10]
    )
    print(f"scale-out: {len(ids)} orders final after {rounds} rounds, {scheduled_runs} scheduled refreshes")
    if open_orders:
        from django_q.models import Failure

        failures = [(f.func, str(f.result)[:300]) for f in Failure.objects.all()[:5]]
        logs = "\n".join(_log_tail(proc) for proc in two_clusters)
        pytest.fail(f"orders not final after {rounds} rounds: {open_orders}; failed tasks: {failures}\n{logs}")
    refunds = LedgerEntry.objects.filter(order_id__in=ids, kind="refund")
    refunded_orders = Order.objects.filter(pk__in=ids, refunded__gt=0)
    assert refunds.count() == refunded_orders.count() > 0
    assert refunds.aggregate(s=Sum("amount"))["s"] == refunded_orders.aggregate(s=Sum("refunded"))["s"]
    assert scheduled_runs, "the clusters' schedulers never ran the refresh schedule"
    assert set(Order.objects.filter(pk__in=ids).values_list("status", flat=True)) >= {"completed", "failed"}
    assert ledger_violations() == []
