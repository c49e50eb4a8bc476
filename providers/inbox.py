"""SMS gateways' inboxes (masking inbox.php) copied into InboxMessage for operators. Fetching is
idempotent: a message is stored once per provider and key (the gateway's id, or a hash of number, time
and text when it gives none), so the schedule and the admin button may run at any time, together."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from providers.adapters.errors import ProviderError
from providers.adapters.types import Capability, IncomingSms
from providers.models import InboxMessage, Provider
from providers.services import provider_adapter

logger = logging.getLogger(__name__)
CHUNK = 500


@dataclass(frozen=True)
class InboxResult:
    provider: str
    fetched: int = 0
    stored: int = 0
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"{self.provider}: failed: {self.error}"
        return f"{self.provider}: {self.fetched} messages, {self.stored} new"


def inbox_key(message: IncomingSms) -> str:
    if message.external_id:
        return f"id:{message.external_id}"[:80]
    at = message.received_at.isoformat() if message.received_at else ""
    digest = hashlib.sha256(f"{message.number}\n{at}\n{message.text}".encode()).hexdigest()
    return f"sha256:{digest}"


def inbox_providers():
    """Enabled providers whose protocol has an inbox."""
    return [p for p in Provider.objects.filter(enabled=True) if has_inbox(p)]


def has_inbox(provider: Provider) -> bool:
    try:
        return provider_adapter(provider).has(Capability.INBOX)
    except ValueError:  # a kind no longer registered
        return False


def inbox_fetch(provider: Provider) -> InboxResult:
    """Fetch one provider's inbox and store what is new. A gateway error is returned (and logged),
    never raised: one broken gateway must not stop the others."""
    try:
        messages = provider_adapter(provider).inbox()
    except ProviderError as exc:
        logger.warning("inbox of %s: %s", provider, exc)
        return InboxResult(provider.name, error=str(exc)[:300])
    rows = {}
    for message in messages:
        rows.setdefault(
            inbox_key(message),
            InboxMessage(
                provider=provider,
                key=inbox_key(message),
                external_id=message.external_id[:100],
                number=message.number[:32],
                text=message.text,
                received_at=message.received_at,
                raw=dict(message.raw),
            ),
        )
    keys, known = list(rows), set()
    for start in range(0, len(keys), CHUNK):  # an inbox may list every message it ever received
        chunk = keys[start : start + CHUNK]
        known.update(InboxMessage.objects.filter(provider=provider, key__in=chunk).values_list("key", flat=True))
    new = [row for key, row in rows.items() if key not in known]
    # ignore_conflicts: a concurrent fetch may have stored the same message since the read above.
    InboxMessage.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
    return InboxResult(provider.name, fetched=len(messages), stored=len(new))


def inbox_fetch_all() -> list[InboxResult]:
    return [inbox_fetch(provider) for provider in inbox_providers()]
