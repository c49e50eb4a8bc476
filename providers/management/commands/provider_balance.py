from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.adapters.errors import ProviderError, ProviderNotSupported
from providers.models import Provider
from providers.services import provider_fetch_balance


class Command(BaseCommand):
    help = "Fetch and print the upstream balance of all enabled providers (or those named)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*")

    def handle(self, *args, **opts) -> None:
        providers = Provider.objects.filter(enabled=True).order_by("name")
        if opts["names"]:
            providers = Provider.objects.filter(name__in=opts["names"]).order_by("name")
            missing = set(opts["names"]) - {p.name for p in providers}
            if missing:
                raise CommandError(f"no provider named {', '.join(sorted(missing))}")
        failed = 0
        for provider in providers:
            try:
                balance = provider_fetch_balance(provider)
            except ProviderNotSupported:
                self.stdout.write(f"{provider.name}: balance not offered by the {provider.kind} protocol")
            except ProviderError as exc:
                failed += 1
                self.stderr.write(f"{provider.name}: FAILED: {exc}")
            else:
                low = " (LOW)" if provider.balance_is_low else ""
                self.stdout.write(f"{provider.name}: {balance.amount:,.2f} {balance.currency}{low}")
        if failed:
            raise SystemExit(1)
