from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from orders.models import ReconciliationStatus
from orders.reconcile import sms_reconcile_day, sms_reconcile_providers, sms_reconcile_summary, wib_yesterday


class Command(BaseCommand):
    help = (
        "Compare one day (WIB) of each SMS gateway's report with the panel's SMS orders and store the "
        "differences for operators (admin: SMS reconciliations), replacing an earlier run of that day. "
        "Nothing is refunded or charged. Exits 1 when a gateway could not be asked."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD (WIB); default yesterday")
        parser.add_argument("--provider", help="provider name; default every enabled SMS gateway with a report")

    def handle(self, *args, **opts) -> None:
        try:
            day = date.fromisoformat(opts["day"]) if opts["day"] else wib_yesterday()
        except ValueError:
            raise CommandError(f"--day: expected YYYY-MM-DD, got {opts['day']!r}") from None
        providers = sms_reconcile_providers()
        if opts["provider"]:
            providers = [p for p in providers if p.name == opts["provider"]]
            if not providers:
                raise CommandError(f"no enabled provider {opts['provider']!r} with an SMS report")
        failed = False
        for provider in providers:
            run = sms_reconcile_day(provider, day)
            failed |= run.status == ReconciliationStatus.FAILED
            (self.stderr if run.status == ReconciliationStatus.FAILED else self.stdout).write(
                sms_reconcile_summary(run)
            )
        if not providers:
            self.stdout.write("no enabled SMS gateway with a report")
        if failed:
            raise SystemExit(1)
