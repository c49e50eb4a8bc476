"""The background schedules, declared in code. `manage.py setup_schedules` installs them."""

from __future__ import annotations

from dataclasses import dataclass

from django_q.models import Schedule

PREFIX = "panel:"


@dataclass(frozen=True)
class Declared:
    name: str
    func: str
    minutes: int


SCHEDULES = (
    # Kicked after every accepted order too; the schedule catches a lost kick or an interrupted send.
    Declared("submit accepted orders", "orders.tasks.submit_orders", 1),
    Declared("refresh active orders", "orders.tasks.refresh_orders", 1),
    Declared("expire OTP orders", "orders.tasks.expire_otp_orders", 1),
    Declared("SMS delivery reports", "orders.tasks.poll_sms_reports", 5),
    Declared("reconcile unknown orders", "orders.tasks.reconcile_orders", 5),
    Declared("provider balances", "orders.tasks.poll_provider_balances", 10),
    Declared("catalogue sync", "orders.tasks.sync_catalogues", 60),
    # Hourly, but each provider's yesterday is compared once (again only after a failed run).
    Declared("SMS reconciliation", "orders.tasks.reconcile_sms_reports", 60),
    Declared("SMS inbox", "providers.tasks.fetch_inboxes", 10),
    Declared("purge expired idempotency keys", "orders.tasks.purge_idempotency_keys", 60),
)


def schedules_install() -> tuple[int, int, int]:
    """Create or update the declared schedules and delete ours that are no longer declared.
    Returns (created, updated, removed). Running it again changes nothing."""
    created = updated = 0
    wanted = {PREFIX + d.name for d in SCHEDULES}
    for declared in SCHEDULES:
        values = {"func": declared.func, "schedule_type": Schedule.MINUTES, "minutes": declared.minutes, "repeats": -1}
        schedule = Schedule.objects.filter(name=PREFIX + declared.name).first()
        if schedule is None:
            Schedule.objects.create(name=PREFIX + declared.name, **values)
            created += 1
        elif any(getattr(schedule, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(schedule, key, value)
            schedule.save()
            updated += 1
    removed, _ = Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted).delete()
    return created, updated, removed
