"""Shared pieces of the benchmark suite: figures and their printing, timing, memory sampling, query counting,
and the throw-away PostgreSQL databases the suite runs in (never the dev or test databases)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit, urlunsplit

JSON_MARK = "BENCH-JSON "
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


# --- figures ------------------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One printed figure. `ratio` is value / baseline (both measured in the same run); `target` is a
    comparison such as ">= 0.4" applied to the ratio (or to the value when there is no baseline). A figure
    with no target is informative."""

    bench: str
    name: str
    value: float
    unit: str = ""
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    note: str = ""
    ratio: float | None = field(default=None)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline

    @property
    def checked(self) -> float:
        return self.ratio if self.ratio is not None else self.value

    @property
    def verdict(self) -> str:
        if not self.target:
            return "INFO"
        op, _space, number = self.target.partition(" ")
        limit = float(number)
        ok = {
            ">=": self.checked >= limit,
            "<=": self.checked <= limit,
            "==": abs(self.checked - limit) < 1e-9,
            "<": self.checked < limit,
            ">": self.checked > limit,
        }[op]
        return "PASS" if ok else "MISS"

    def line(self) -> str:
        value = f"{fmt(self.value)} {self.unit}".strip()
        text = f"[{self.bench}] {self.name}: {value}"
        if self.baseline is not None:
            text += f" | baseline {self.baseline_label}: {fmt(self.baseline)}"
        if self.ratio is not None:
            text += f" | ratio {self.ratio:.3f}"
        if self.target:
            text += f" | target {'ratio ' if self.ratio is not None else ''}{self.target}"
        text += f" | {self.verdict}"
        if self.note:
            text += f"  ({self.note})"
        return text


def fmt(number: float) -> str:
    if isinstance(number, int) or float(number).is_integer():
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.1f}"
    if abs(number) >= 1:
        return f"{number:.3f}"
    return f"{number:.4f}"


class Report:
    """Collects the figures of one child process and prints each as it comes."""

    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.figures: list[Figure] = []

    def add(self, name: str, value: float, **kwargs) -> Figure:
        figure = Figure(self.bench, name, value, **kwargs)
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    def note(self, text: str) -> None:
        print(f"[{self.bench}] {text}", flush=True)

    def emit_json(self) -> None:
        print(JSON_MARK + json.dumps([asdict(f) for f in self.figures]), flush=True)


# --- timing -------------------------------------------------------------------------------------------------
def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def interleaved_medians(fns: dict[str, Callable[[], object]], repeat: int, warmup: int = 1) -> dict[str, float]:
    """Median time of each function, calls interleaved (a, b, a, b...) so machine noise hits all alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            samples[name].append(timed(fn)[0])
    return {name: statistics.median(values) for name, values in samples.items()}


# --- memory -------------------------------------------------------------------------------------------------
def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssPeak:
    """Samples this process's resident memory every few milliseconds; `growth` is the peak above the start."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> RssPeak:
        self.start = self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start


# --- queries ------------------------------------------------------------------------------------------------
@contextmanager
def count_queries(connection=None) -> Iterator[list[str]]:
    """Every SQL statement run on `connection` (default: this thread's) inside the block."""
    from django.db import connection as default

    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with (connection or default).execute_wrapper(wrapper):
        yield seen


# --- databases ------------------------------------------------------------------------------------------------
def server_url() -> str:
    return os.environ.get("BENCH_PG_URL", DEFAULT_SERVER).rstrip("/")


def db_url(name: str) -> str:
    parts = urlsplit(server_url())
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def _admin_connection():
    import psycopg

    return psycopg.connect(db_url("postgres"), autocommit=True)


def create_database(name: str, template: str | None = None) -> None:
    from psycopg import sql

    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    with _admin_connection() as conn:
        conn.execute(query)


def drop_database(name: str) -> None:
    from psycopg import sql

    if not name.startswith("bench_"):
        raise ValueError(f"refusing to drop {name!r}: the suite only drops its own bench_* databases")
    with _admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_version() -> str:
    with _admin_connection() as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def pg_env() -> dict[str, str]:
    """libpq variables for pgbench/psql pointing at the bench server."""
    parts = urlsplit(server_url())
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": parts.hostname or "127.0.0.1",
            "PGPORT": str(parts.port or 5432),
            "PGUSER": parts.username or "postgres",
        }
    )
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env


def django_setup() -> None:
    """Settings for a child process: the bench database from DATABASE_URL (set by the runner), quiet logs."""
    if not os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1].startswith("bench_"):
        sys.exit("bench: refusing to run outside a bench_* database (start it with `python -m bench`)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["ADMIN_2FA"] = "0"
    os.environ["DJANGO_ENV"] = "development"
    import django

    django.setup()
