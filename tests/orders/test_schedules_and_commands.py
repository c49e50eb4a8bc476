from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from orders.placement import order_place
from orders.schedules import PREFIX, SCHEDULES
from providers.adapters.types import Status

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_setup_schedules_is_idempotent_and_removes_stale():
    Schedule.objects.create(
        name=PREFIX + "old job", func="orders.tasks.gone", schedule_type=Schedule.MINUTES, minutes=5
    )
    Schedule.objects.create(name="someone else's", func="x.y", schedule_type=Schedule.DAILY)
    first = run("setup_schedules")
    assert f"{len(SCHEDULES)} created" in first and "1 removed" in first
    assert run("setup_schedules").strip().endswith("0 created, 0 updated, 0 removed")
    names = set(Schedule.objects.values_list("name", flat=True))
    assert names == {PREFIX + d.name for d in SCHEDULES} | {"someone else's"}
    refresh = Schedule.objects.get(name=PREFIX + "refresh active orders")
    assert (refresh.func, refresh.minutes) == ("orders.tasks.refresh_orders", 1)
    Schedule.objects.filter(pk=refresh.pk).update(minutes=9)
    assert "1 updated" in run("setup_schedules")


def test_every_scheduled_task_runs(shop, upstream, buyer):
    from importlib import import_module

    for declared in SCHEDULES:
        module, name = declared.func.rsplit(".", 1)
        assert isinstance(getattr(import_module(module), name)(), str)


def test_orders_refresh_prints_what_changed(shop, upstream, buyer):
    order = order_place(buyer, kind="smm", service=shop.smm, link="https://instagram.com/a", quantity=100)
    upstream.set_status(order.external_id, Status.COMPLETED, "Completed")
    out = run("orders_refresh")
    assert f"#{order.pk} smm: pending -> completed" in out
    assert "1 changed" in out
