from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from providers.pricing import pricing_refresh


class Command(BaseCommand):
    help = "Recompute the sell price of every service (or of the service ids given) for every tier."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service_ids", nargs="*", type=int, help="only these services (default: all)")

    def handle(self, *args, **opts) -> None:
        result = pricing_refresh(opts["service_ids"] or None)
        self.stdout.write(str(result))
