from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Tier, User
from accounts.money import InvalidAmount, format_rupiah, to_money
from accounts.services import reseller_create


class Command(BaseCommand):
    help = "Create a reseller with a wallet, optionally in a tier and with an initial deposit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--tier", help="tier name (default: the default tier)")
        parser.add_argument("--deposit", help="initial deposit in Rupiah")
        parser.add_argument("--email", default="")

    def handle(self, *args, **opts) -> None:
        username = opts["username"].strip()
        if not username:
            raise CommandError("username must not be empty")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} already exists")
        tier = None
        if opts["tier"]:
            tier = Tier.objects.filter(name__iexact=opts["tier"]).first()
            if tier is None:
                names = ", ".join(Tier.objects.values_list("name", flat=True))
                raise CommandError(f"no tier {opts['tier']!r} (tiers: {names})")
        deposit = None
        if opts["deposit"]:
            try:
                deposit = to_money(opts["deposit"])
            except InvalidAmount as exc:
                raise CommandError(str(exc)) from None
            if deposit <= 0:
                raise CommandError("--deposit must be more than zero")
        try:
            validate_password(opts["password"], User(username=username))
        except ValidationError as exc:
            raise CommandError("password refused: " + " ".join(exc.messages)) from None
        user = reseller_create(
            username=username, password=opts["password"], tier=tier, email=opts["email"], deposit=deposit
        )
        self.stdout.write(
            f"created reseller {user.username} (id {user.pk}, tier {user.tier or '-'}, "
            f"balance {format_rupiah(deposit or 0)})"
        )
