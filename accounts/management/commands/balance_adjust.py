from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.money import InvalidAmount, format_rupiah, to_money
from accounts.services import LedgerError, wallet_adjust


class Command(BaseCommand):
    help = "Adjust a reseller's balance by AMOUNT (negative to take out) as a ledger entry with a reason."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("amount", help="Rupiah, may be negative (e.g. -25000)")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, **opts) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no user {opts['username']!r}")
        try:
            amount = to_money(opts["amount"])
        except InvalidAmount as exc:
            raise CommandError(str(exc)) from None
        try:
            entry = wallet_adjust(user=user, amount=amount, reason=opts["reason"], actor=None)
        except LedgerError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{user.username}: {format_rupiah(entry.amount)} -> balance {format_rupiah(entry.balance_after)} "
            f"(entry {entry.pk})"
        )
