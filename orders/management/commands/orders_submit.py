from __future__ import annotations

from django.core.management.base import BaseCommand

from orders.submission import submissions_sweep
from orders.submitter import submit_orders


class Command(BaseCommand):
    help = (
        "Send accepted orders upstream now, as the worker does (interrupted sends are marked unknown first). "
        "Exits when nothing is left to send, or hands over to the worker when its time is up."
    )

    def handle(self, *args, **opts) -> None:
        swept = submissions_sweep()
        stats = submit_orders()
        self.stdout.write(f"{stats}; {swept['interrupted']} interrupted sends marked unknown")
