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

from tooling import demo


class Command(BaseCommand):
    help = "Set up the demo (migrate, demo users, sandbox providers) and serve the panel with a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--setup-only", action="store_true", help="prepare the data and exit")
        parser.add_argument("--no-worker", action="store_true", help="do not start the django-q2 worker")

    def handle(self, *args, **opts) -> None:
        if settings.PRODUCTION:
            raise CommandError("the demo is not for production (DJANGO_ENV=production)")
        call_command("migrate", interactive=False, verbosity=0)
        creds = demo.ensure_demo_users()
        call_command("setup_schedules", stdout=self.stdout)
        sandbox = settings.SANDBOX_ENABLED or settings.DEBUG
        if sandbox:
            self.stdout.write(demo.ensure_sandbox_providers())
        url = f"http://{opts['addr']}/"
        self.stdout.write(
            self.style.SUCCESS("Demo ready.") + f"\n  Panel:     {url}\n  Admin:     {url}admin/\n"
            f"  Operator:  {demo.DEMO_OPERATOR} / {creds.operator_password}\n"
            f"  Reseller:  {demo.DEMO_RESELLER} / {creds.reseller_password}\n"
            "  (new passwords on every run)"
        )
        if opts["setup_only"]:
            return
        worker = None
        if not opts["no_worker"]:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=settings.BASE_DIR,
                env=os.environ.copy(),
                start_new_session=True,  # a group of its own, stopped as a whole below
            )
        # SIGTERM (e.g. from a process manager) stops the demo like Ctrl-C does, so the worker goes too.
        signal.signal(signal.SIGTERM, _interrupt)
        if sandbox:
            # The sandbox answers over HTTP from this very server, so sync once it is up.
            threading.Thread(target=self._sync_when_up, args=(url,), daemon=True).start()
        try:
            call_command("runserver", opts["addr"], use_reloader=False)
        finally:
            if worker is not None:
                _stop_group(worker)

    def _sync_when_up(self, url: str) -> None:
        for _ in range(60):
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):  # noqa: S310 - our own local URL
                    break
            except OSError:
                time.sleep(0.5)
        self.stdout.write("Catalogue sync:")
        for line in demo.sync_catalogues():
            self.stdout.write(line)


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
