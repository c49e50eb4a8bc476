from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import apikey_rotate


class Command(BaseCommand):
    help = "Rotate a reseller's API key; prints the new key alone on the last line (it is stored hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, **opts) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no user {opts['username']!r}")
        if user.is_staff:
            raise CommandError(f"{user.username} is an operator; API keys are for resellers")
        key = apikey_rotate(user)
        self.stdout.write(f"new API key for {user.username} (user id {user.pk}); the old key no longer works:")
        self.stdout.write(key)
