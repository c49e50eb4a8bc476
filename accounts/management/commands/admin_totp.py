from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = "Give an operator a TOTP device for the admin's second factor; prints the otpauth:// URI to scan."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true", help="replace existing devices (lost phone)")

    def handle(self, *args, **opts) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no user {opts['username']!r}")
        if not user.is_staff:
            raise CommandError(f"{user.username} is not an operator (staff)")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists() and not opts["reset"]:
            raise CommandError(f"{user.username} already has a TOTP device; use --reset to replace it")
        existing.delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        self.stdout.write(f"TOTP device created for {user.username}; scan this URI in an authenticator app:")
        self.stdout.write(device.config_url)
