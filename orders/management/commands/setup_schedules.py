from __future__ import annotations

from django.core.management.base import BaseCommand

from orders.schedules import SCHEDULES, schedules_install


class Command(BaseCommand):
    help = "Install the panel's django-q2 schedules (idempotent; removes stale ones)."

    def handle(self, *args, **opts) -> None:
        created, updated, removed = schedules_install()
        self.stdout.write(
            f"schedules: {len(SCHEDULES)} declared, {created} created, {updated} updated, {removed} removed"
        )
