"""Switchable faults per sandbox account (`fault`, `fault_scope`, `fault_delay_seconds`).

timeout and html502 fail before anything happens; invalid_json, empty, wrong_types and lose_reply
perform the action first and then break the reply, which is what makes an outcome unknown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import StrEnum

from django.http import HttpResponse

from .models import Fault, FaultScope, SandboxAccount


class Scope(StrEnum):
    """What an action is, for `fault_scope`."""

    ORDER = "order"  # placement: VirtuSIM order, SMM add, SMS send, Osimesa order
    STATUS = "status"  # status / refresh: status, active_order, report
    OTHER = "other"  # services, balance, set_status, refill, cancel... (faulted only with scope "all")


_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def nginx_page(code: int, reason: str) -> HttpResponse:
    return HttpResponse(
        _NGINX_PAGE.format(code=code, reason=reason), status=code, content_type="text/html; charset=utf-8"
    )


def applies(account: SandboxAccount, scope: Scope) -> bool:
    if account.fault == Fault.NONE:
        return False
    return account.fault_scope == FaultScope.ALL or account.fault_scope == scope.value


def with_fault(account: SandboxAccount, scope: Scope, perform: Callable[[], HttpResponse]) -> HttpResponse:
    """Run `perform` (the real action and its reply) through the account's fault, if it applies."""
    if not applies(account, scope):
        return perform()
    fault = account.fault
    if fault == Fault.TIMEOUT:
        time.sleep(account.fault_delay_seconds)
        return nginx_page(504, "Gateway Time-out")
    if fault == Fault.HTML502:
        return nginx_page(502, "Bad Gateway")
    reply = perform()
    if fault == Fault.LOSE_REPLY:
        time.sleep(account.fault_delay_seconds)  # the client's read timeout fires meanwhile
        return reply
    if fault == Fault.EMPTY:
        return HttpResponse(b"", content_type=reply.get("Content-Type", "text/html"))
    if fault == Fault.WRONG_TYPES:
        return HttpResponse(json.dumps(account.protocol.wrong_types), content_type="application/json")
    return HttpResponse(_truncated(reply.content), content_type="application/json")  # invalid_json


def _truncated(body: bytes) -> bytes:
    """A reply cut off half way: never valid JSON (an object or list missing its end)."""
    if body[:1] in (b"{", b"[") and len(body) > 2:
        return body[: len(body) // 2]
    return b'{"status": true, "data": {"id": "'
