from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import ledger_violations
from tooling.seed import seed_demo


class Command(BaseCommand):
    help = (
        "Generate realistic demo data in bulk: N new resellers (skewed: a few heavy ones) and M orders of every "
        "kind and status over ~6 months, with the matching ledger (ledger_check stays clean). Not for production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--resellers", type=int, default=50, help="new resellers to create (default 50)")
        parser.add_argument("--orders", type=int, default=10_000, help="new orders to create (default 10,000)")
        parser.add_argument("--months", type=float, default=6, help="spread orders over this many months (default 6)")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")
        parser.add_argument("--batch", type=int, default=10_000, help="orders per batch (default 10,000)")
        parser.add_argument("--no-events", action="store_true", help="skip the order history rows (faster)")
        parser.add_argument(
            "--password", default=None, help="password of every seeded reseller (default: none, cannot log in)"
        )
        parser.add_argument("--check", action="store_true", help="run ledger_check afterwards")

    def handle(self, *args, **opts) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo is not for production (DJANGO_ENV=production)")
        if opts["resellers"] < 1:
            raise CommandError("--resellers must be at least 1")
        if opts["orders"] < 0:
            raise CommandError("--orders must not be negative")
        result = seed_demo(
            resellers=opts["resellers"],
            orders=opts["orders"],
            months=opts["months"],
            seed=opts["seed"],
            batch_size=opts["batch"],
            events=not opts["no_events"],
            password=opts["password"],
            progress=lambda line: self.stdout.write(f"seed_demo: {line}"),
        )
        self.stdout.write(self.style.SUCCESS(f"seed_demo: done: {result}"))
        if opts["check"]:
            problems = ledger_violations()
            if problems:
                for line in problems[:50]:
                    self.stderr.write(line)
                raise CommandError(f"ledger_check: {len(problems)} violation(s)")
            self.stdout.write("ledger_check: ok")
