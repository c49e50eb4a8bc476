"""The benchmark runner: `python -m bench [NAME ...] [--quick]`.

It creates its own PostgreSQL databases on the bench server (BENCH_PG_URL, default
postgres://postgres@127.0.0.1:5432, trust auth): one migrated template `bench_<pid>_tpl`, and per group a copy
of it (`CREATE DATABASE ... TEMPLATE`, instant) that one child process uses and the runner drops afterwards.
pgbench gets a scratch database of its own. The dev and test databases are never touched: DATABASE_URL from
the environment is ignored.

Every figure is a ratio against a baseline measured in the same run on the same machine (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import JSON_MARK, Figure, create_database, db_url, drop_database, server_version

ROOT = Path(__file__).resolve().parent.parent

# group -> the benchmark names it runs (one child process and one database per group)
GROUPS: dict[str, tuple[str, ...]] = {
    "placement": ("placement",),
    "sync": ("sync",),
    "refresh": ("refresh",),
    "scale": ("orderlist", "csv", "admin"),
    "slowupstream": ("slowupstream",),
}
NAMES = [name for names in GROUPS.values() for name in names]


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    import django

    load = os.getloadavg()
    return [
        f"machine: {cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}",
        f"software: PostgreSQL {server_version()}, Python {platform.python_version()}, Django {django.get_version()}",
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    ]


def _child_env(database: str, quick: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url(database),
            "DJANGO_SETTINGS_MODULE": "panel.settings",
            "BENCH_QUICK": "1" if quick else "",
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("REDIS_URL", None)  # django-q2 stays on the ORM broker: the suite enqueues nothing
    return env


def migrate_template(name: str) -> None:
    env = _child_env(name, quick=False)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True, timeout=600
    )


def run_group(group: str, names: list[str], database: str, quick: bool, prefix: str) -> list[Figure]:
    cmd = [sys.executable, "-m", "bench.child", group, *names, "--prefix", prefix]
    process = subprocess.Popen(  # noqa: S603 - this Python, our own arguments, no shell
        cmd, cwd=ROOT, env=_child_env(database, quick), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    figures: list[Figure] = []
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(JSON_MARK):
            figures += [Figure(**item) for item in json.loads(line[len(JSON_MARK) :])]
        else:
            print(line, end="", flush=True)
    if process.wait() != 0:
        print(f"[{group}] child process failed with exit code {process.returncode}", flush=True)
        figures.append(Figure(group, "benchmark finished", 0, target="== 1", note="the child process failed"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(NAMES)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test in under two minutes")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases (for inspection)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    selected = args.names or NAMES
    quick = args.quick or bool(os.environ.get("BENCH_QUICK"))

    prefix = f"bench_{os.getpid()}"
    template = f"{prefix}_tpl"
    started = time.monotonic()
    print(f"bench: {'quick' if quick else 'full'} run of {', '.join(selected)}", flush=True)
    print(f"bench: date {datetime.now(UTC).isoformat(timespec='seconds')}", flush=True)
    for line in machine():
        print(f"bench: {line}", flush=True)
    created: list[str] = []
    figures: list[Figure] = []
    try:
        create_database(template)
        created.append(template)
        migrate_template(template)
        for group, names in GROUPS.items():
            chosen = [n for n in names if n in selected]
            if not chosen:
                continue
            database = f"{prefix}_{group}"
            create_database(database, template=template)
            created.append(database)
            figures += run_group(group, chosen, database, quick, prefix)
            if not args.keep:
                drop_database(database)
                created.remove(database)
    finally:
        if not args.keep:
            for name in reversed(created):
                try:
                    drop_database(name)
                except Exception as exc:  # report it and go on dropping the rest
                    print(f"bench: could not drop {name}: {exc}", file=sys.stderr)
        elif created:
            print(f"bench: kept databases {', '.join(created)}", flush=True)

    print(f"\nbench: summary ({time.monotonic() - started:.0f} s)", flush=True)
    for figure in figures:
        print("  " + figure.line(), flush=True)
    missed = [f for f in figures if f.verdict == "MISS"]
    passed = sum(1 for f in figures if f.verdict == "PASS")
    print(f"bench: {passed} PASS, {len(missed)} MISS, {len(figures) - passed - len(missed)} INFO", flush=True)
    # Missed targets are findings to read, not failures: the exit code only reports a broken run.
    return 1 if any(f.name == "benchmark finished" for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
