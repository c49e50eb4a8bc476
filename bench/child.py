"""One benchmark group in its own process and database: `python -m bench.child GROUP [NAME ...]`.

Started by bench.run with DATABASE_URL pointing at a fresh bench_* copy of the migrated template.
"""

from __future__ import annotations

import argparse
import importlib
import os

from bench.common import Report, django_setup

MODULES = {
    "placement": "bench.placement",
    "sync": "bench.sync",
    "refresh": "bench.refresh",
    "scale": "bench.scale",
    "slowupstream": "bench.slowupstream",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("group", choices=sorted(MODULES))
    parser.add_argument("names", nargs="*")
    parser.add_argument("--prefix", default=f"bench_{os.getpid()}")
    args = parser.parse_args()
    django_setup()
    report = Report(args.group)
    module = importlib.import_module(MODULES[args.group])
    try:
        module.run(report, names=args.names or None, quick=bool(os.environ.get("BENCH_QUICK")), prefix=args.prefix)
    finally:
        report.emit_json()


if __name__ == "__main__":
    main()
