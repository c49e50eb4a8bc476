from __future__ import annotations

from django.core.management.base import BaseCommand

from orders.delivery import callbacks_apply
from orders.refresh import otp_expire, refresh_tick


class Command(BaseCommand):
    help = "Run one refresh tick synchronously (delivery reports, statuses, OTP expiry) and print what changed."

    def handle(self, *args, **opts) -> None:
        applied = callbacks_apply()
        stats = refresh_tick()
        for line in stats.changes:
            self.stdout.write(line)
        for line in stats.errors:
            self.stderr.write(line)
        expired = otp_expire()
        self.stdout.write(f"{stats}; {applied} delivery reports applied; {expired} OTP orders expired")
