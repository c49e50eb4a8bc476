from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.adapters.errors import ProviderError
from providers.models import Provider
from providers.sync import catalogue_sync


class Command(BaseCommand):
    help = "Sync the catalogue of all enabled providers (or those named); exit 1 if any failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*")

    def handle(self, *args, **opts) -> None:
        providers = list(Provider.objects.filter(enabled=True).order_by("name"))
        if opts["names"]:
            providers = list(Provider.objects.filter(name__in=opts["names"]).order_by("name"))
            missing = set(opts["names"]) - {p.name for p in providers}
            if missing:
                raise CommandError(f"no provider named {', '.join(sorted(missing))}")
        failed = 0
        for provider in providers:
            try:
                result = catalogue_sync(provider)
            except ProviderError as exc:
                failed += 1
                self.stderr.write(f"{provider.name}: FAILED: {exc}")
            else:
                self.stdout.write(f"{provider.name}: {result}")
        if failed:
            raise SystemExit(1)
