from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F

from providers.sandbox.models import SandboxAccount, SandboxOrder


def osimesa_sign(account: SandboxAccount) -> str:
    return hashlib.md5(f"{account.user_id}{account.api_key}".encode()).hexdigest()


def rewind(seconds: float, **filters: Any) -> None:
    """Move sandbox orders back in time, as if `seconds` had passed since they were placed."""
    delta = timedelta(seconds=seconds)
    orders = SandboxOrder.objects.filter(**filters)
    orders.update(created_at=F("created_at") - delta)
    for field in ("final_at", "otp_at", "dlr_at", "ready_at"):
        orders.filter(**{f"{field}__isnull": False}).update(**{field: F(field) - delta})


def balance_of(account: SandboxAccount) -> Decimal:
    account.refresh_from_db(fields=["balance"])
    return account.balance
