from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from tooling import demo, demo_logging


class Command(BaseCommand):
    help = (
        "Set up the demo (migrate, demo users, sandbox providers, the reseller's order history) and serve the "
        "panel with a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--setup-only", action="store_true", help="prepare the data and exit")
        parser.add_argument("--no-worker", action="store_true", help="do not start the django-q2 worker")

    def handle(self, *args, **opts) -> None:
        if settings.PRODUCTION:
            raise CommandError("the demo is not for production (DJANGO_ENV=production)")
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        creds = demo.ensure_demo_users()
        call_command("setup_schedules", stdout=self.stdout)
        sandbox = settings.SANDBOX_ENABLED or settings.DEBUG
        if sandbox:
            self.stdout.write(demo.ensure_sandbox_providers())
        url = f"http://{opts['addr']}/"
        if opts["setup_only"]:
            # No server, so no catalogue sync and no history (it sells what the sync brings).
            demo.ensure_demo_deposit()
            self.stdout.write(ready_block(url, creds, started, worker=False))
            return
        access_filter = demo_logging.quiet_demo_logging()
        stop_summaries = demo_logging.summarise_every(access_filter)
        worker = None
        if not opts["no_worker"]:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=settings.BASE_DIR,
                env=demo_logging.worker_environment(os.environ),
                start_new_session=True,  # a group of its own, stopped as a whole below
            )
        # SIGTERM (e.g. from a process manager) stops the demo like Ctrl-C does, so the worker goes too.
        signal.signal(signal.SIGTERM, _interrupt)
        # The sandbox answers over HTTP from this very server: the rest of the set-up waits for it.
        threading.Thread(
            target=self._finish_setup, args=(url, creds, sandbox, started, worker is not None), daemon=True
        ).start()
        try:
            call_command("runserver", opts["addr"], use_reloader=False)
        finally:
            stop_summaries.set()
            if worker is not None:
                _stop_group(worker)

    def _finish_setup(self, url: str, creds: demo.DemoCredentials, sandbox: bool, started: float, worker: bool) -> None:
        """Once the server answers: sync the catalogues, seed the history (first set-up only), then the
        deposit, and print the block with the URLs and logins last, where it is easy to find."""
        for _ in range(60):
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):  # noqa: S310 - our own local URL
                    break
            except OSError:
                time.sleep(0.5)
        try:
            if sandbox:
                self.stdout.write("Catalogue sync:")
                for line in demo.sync_catalogues():
                    self.stdout.write(line)
                history = demo.ensure_demo_history()
                self.stdout.write(
                    f"Order history: {history.orders:,} orders over {demo.HISTORY_DAYS} days, "
                    f"{history.ledger_entries:,} ledger entries ({history.deposits:,} deposits)"
                    if history
                    else "Order history: already there"
                )
            demo.ensure_demo_deposit()
        except Exception as exc:  # the server keeps running: say what failed, then the logins anyway
            self.stderr.write(f"Demo set-up failed: {exc!r}")
        finally:
            connections.close_all()  # this thread's own connections (they are per thread)
        self.stdout.write(ready_block(url, creds, started, worker=worker))


def ready_block(url: str, creds: demo.DemoCredentials, started: float, *, worker: bool) -> str:
    """The URLs and logins, framed: printed once, at the end of the set-up."""
    lines = [
        f"Demo ready in {time.monotonic() - started:.0f} s",
        f"  Panel     {url}",
        f"  Admin     {url}admin/",
        f"  Operator  {demo.DEMO_OPERATOR} / {creds.operator_password}",
        f"  Reseller  {demo.DEMO_RESELLER} / {creds.reseller_password}",
        *(["  Worker    running (django-q2; it logs warnings and errors only)"] if worker else []),
        "New passwords on every run. Ctrl-C stops the panel and the worker.",
    ]
    rule = "=" * (max(len(line) for line in lines) + 4)
    return "\n".join(["", rule, *(f"  {line}" for line in lines), rule, ""])


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop the worker and the processes it forked."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
