"""django-q2 tasks of the providers app; idempotent. Schedules: orders.schedules / setup_schedules."""

from __future__ import annotations


def fetch_inboxes() -> str:
    from providers.inbox import inbox_fetch_all

    return "; ".join(str(result) for result in inbox_fetch_all()) or "no provider with an inbox"
