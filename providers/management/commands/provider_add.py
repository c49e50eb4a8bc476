from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.money import InvalidAmount, to_money
from providers.adapters import ADAPTERS
from providers.services import provider_callback_url, provider_save


class Command(BaseCommand):
    help = "Create or update the provider NAME of protocol KIND."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(ADAPTERS))
        parser.add_argument("name")
        parser.add_argument("--url", required=True, help="the API address the vendor's page gives")
        parser.add_argument("--api-key")
        parser.add_argument("--user-id")
        parser.add_argument("--username")
        parser.add_argument("--password")
        parser.add_argument(
            "--credential", action="append", default=[], metavar="NAME=VALUE", help="another secret the protocol needs"
        )
        parser.add_argument("--sms-cost", help="cost per SMS of each route (SMS gateways)")

    def handle(self, *args, **opts) -> None:
        sms_cost = None
        if opts["sms_cost"]:
            if not ADAPTERS[opts["kind"]].sms_routes:
                gateways = ", ".join(kind for kind, adapter in ADAPTERS.items() if adapter.sms_routes)
                raise CommandError(f"--sms-cost only applies to SMS gateways ({gateways})")
            try:
                sms_cost = to_money(opts["sms_cost"])
            except InvalidAmount as exc:
                raise CommandError(str(exc)) from None
            if sms_cost < 0:
                raise CommandError("--sms-cost must not be negative")
        credentials = dict(item.partition("=")[::2] for item in opts["credential"])
        try:
            provider, created = provider_save(
                name=opts["name"],
                kind=opts["kind"],
                base_url=opts["url"],
                api_key=opts["api_key"],
                user_id=opts["user_id"],
                username=opts["username"],
                password=opts["password"],
                credentials=credentials,
                sms_cost=sms_cost,
            )
        except ValueError as exc:  # a credential no protocol declares
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        line = f"{'created' if created else 'updated'} provider {provider.name} ({provider.kind}, id {provider.pk})"
        if provider.sms_routes:
            line += f"; callback URL: {provider_callback_url(provider)}"
        self.stdout.write(line)
