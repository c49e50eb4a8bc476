from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import LedgerEntry, Wallet
from accounts.selectors import ledger_violations


class Command(BaseCommand):
    help = "Verify every money invariant; exit 1 listing each violation."

    def handle(self, *args, **opts) -> None:
        problems = ledger_violations()
        if problems:
            for line in problems:
                self.stderr.write(line)
            self.stderr.write(f"ledger_check: {len(problems)} violation(s)")
            raise SystemExit(1)
        self.stdout.write(f"ledger_check: ok ({Wallet.objects.count()} wallets, {LedgerEntry.objects.count()} entries)")
