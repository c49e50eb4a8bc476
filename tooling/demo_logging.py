"""A readable log for `make demo` (the demo only; production logging is panel/settings.py's LOGGING).

The sandbox vendors answer from the panel's own runserver, and their delivery reports come back to it, so
one SMS to 1,000 numbers printed 1,000 access lines of `POST /callbacks/...`. In the demo:
- runserver's access lines for the simulator's traffic (/sandbox/..., provider callbacks, /healthz) are
  counted instead of printed, and summarised in one line per interval; a 4xx/5xx one is printed as ever
  (Django logs those at WARNING/ERROR);
- django-q's routine INFO lines (task enqueued, processing, processed) are left out, in the server and in
  the worker, whose other INFO lines go too (the demo starts it with LOG_LEVEL=WARNING unless LOG_LEVEL is
  set); warnings and errors still show.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter

# What the simulator's traffic looks like on runserver's access log, by the name its summary gives it.
QUIET_PATHS = (
    ("/sandbox/", "sandbox vendor calls"),
    ("/callbacks/", "provider callbacks (delivery reports, status pushes)"),
    ("/healthz", "health checks"),
)
_REQUEST_LINE = re.compile(r'"[A-Z]+ (\S+)')
SUMMARY_SECONDS = 30.0
WORKER_LOG_LEVEL = "WARNING"

logger = logging.getLogger("tooling.demo")


class DemoAccessFilter(logging.Filter):
    """Drops (and counts) runserver's successful access lines for the paths in QUIET_PATHS."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()  # runserver serves each request in a thread of its own
        self._counts: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        try:
            match = _REQUEST_LINE.search(record.getMessage())
        except Exception:  # a malformed record is printed rather than lost
            return True
        if match is None:
            return True
        path = match.group(1)
        for prefix, label in QUIET_PATHS:
            if path.startswith(prefix):
                with self._lock:
                    self._counts[label] += 1
                return False
        return True

    def take_summary(self) -> str:
        """One line for what was dropped since the last call ("" when nothing was)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return ""
        parts = [f"{counts[label]:,} {label}" for _prefix, label in QUIET_PATHS if counts[label]]
        return "served " + ", ".join(parts) + " (access lines hidden in the demo)"


def quiet_demo_logging() -> DemoAccessFilter:
    """Install the demo's filter on runserver's access log and quieten django-q's INFO lines."""
    access_filter = DemoAccessFilter()
    logging.getLogger("django.server").addFilter(access_filter)
    logging.getLogger("django-q").setLevel(logging.WARNING)
    return access_filter


def worker_environment(environ: dict[str, str]) -> dict[str, str]:
    """The worker's environment: the demo's quieter level unless the user chose one."""
    env = dict(environ)
    env.setdefault("LOG_LEVEL", WORKER_LOG_LEVEL)
    return env


def summarise_every(access_filter: DemoAccessFilter, seconds: float = SUMMARY_SECONDS) -> threading.Event:
    """Log the filter's summary every `seconds` from a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(seconds):
            line = access_filter.take_summary()
            if line:
                logger.info(line)

    threading.Thread(target=run, name="demo-log-summary", daemon=True).start()
    return stop
