"""Idempotent retries of order-creating API calls (docs/api.md: Idempotent retries).

A reseller's bot that lost a reply sends the same call again with the same `Idempotency-Key` header (or
the protocol's client reference field): it gets the first reply again, with `Idempotent-Replayed: true`,
and is charged once. The same key with a different request is refused (KEY_REUSED, HTTP 409); a key that
is too long or has characters outside visible ASCII is refused (KEY_INVALID, HTTP 400); all in the
calling protocol's own error form.

The first use of a key inserts an IdempotentRequest row (unique per reseller and key) *before* the call
runs, committed at once, so of two concurrent retries the database lets exactly one run; the other waits
up to IDEMPOTENCY_WAIT_SECONDS for the first reply and replays it (or answers KEY_IN_FLIGHT). Only replies
to calls that were accepted (something charged: the handler calls `accepted(request)`) are kept, for
IDEMPOTENCY_TTL_HOURS (24 h): a refused call charged nothing, so its claim is dropped and the same key may
be tried again once the reason is fixed (a top-up, a corrected number). Expired rows are ignored and
purged hourly (orders.tasks.purge_idempotency_keys).

Applying it to a new protocol's order call: decorate a `(request, user, params)` handler with
`@idempotent(fail)` (`reference="field"` when the protocol has a client reference field), or call
`idempotent_call(...)` from a view; in either, call `accepted(request)` once the order is placed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from orders.models import IdempotentRequest

from .common import Fail, Reason, Refusal, setting

logger = logging.getLogger("orders.api")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 255
DEFAULT_TTL_HOURS = 24
DEFAULT_WAIT_SECONDS = 10
POLL_SECONDS = 0.05
# Left out of the fingerprint: a retry after a key rotation, or with the key in a header instead of the
# form, is the same request (the reseller is the scope anyway).
CREDENTIALS = frozenset({"key", "api_key", "apikey", "sign", "username", "password"})
# Visible ASCII without `"` and `\`: what an RFC 8941 string carries unescaped (UUIDs, order numbers...).
_KEY_TEXT = re.compile(rf"[!#-\[\]-~]{{1,{MAX_KEY}}}")
_ACCEPTED = "_idempotency_accepted"


def ttl() -> timedelta:
    return timedelta(hours=max(setting("IDEMPOTENCY_TTL_HOURS", DEFAULT_TTL_HOURS), 1))


def accepted(request: HttpRequest) -> None:
    """The call placed (and charged) something: its reply must be kept for retries."""
    setattr(request, _ACCEPTED, True)


def _is_accepted(request: HttpRequest) -> bool:
    return bool(getattr(request, _ACCEPTED, False))


def idempotency_key(request: HttpRequest, reference: object, fail: Fail) -> str | None:
    """The key of this call: the header, or the protocol's reference field (the same value if both are
    sent). None without either (empty counts as absent). Raises Refusal(KEY_INVALID) for a bad key."""
    header = request.headers.get(HEADER, "").strip()
    if len(header) >= 2 and header[0] == header[-1] == '"':  # the draft's structured-field form: "abc"
        header = header[1:-1]
    if isinstance(reference, int) and not isinstance(reference, bool):
        reference = str(reference)  # a JSON number is a fine reference
    if reference is not None and not isinstance(reference, str):
        raise Refusal(fail(Reason.KEY_INVALID))
    field = (reference or "").strip()
    if header and field and header != field:
        raise Refusal(fail(Reason.KEY_INVALID))
    key = header or field
    if not key:
        return None
    if not _KEY_TEXT.fullmatch(key):
        raise Refusal(fail(Reason.KEY_INVALID))
    return key


def fingerprint(request: HttpRequest, params: Mapping[str, Any], exclude: Iterable[str] = ()) -> str:
    """sha256 of the method, the path and the parameters without credentials and the reference field."""
    left_out = CREDENTIALS | set(exclude)
    canonical = {name: value for name, value in params.items() if name not in left_out}
    text = json.dumps([request.method, request.path, canonical], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    response[REPLAYED] = "true"
    response["Cache-Control"] = "no-store"
    return response


def _claim(user: User, key: str, print_: str) -> tuple[IdempotentRequest | None, bool]:
    """(the row, True) when this call is the first with the key; else (the existing row or None, False).
    Committed at once (the API runs in autocommit), so a concurrent retry sees it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, fingerprint=print_, created_at=now), True
    except IntegrityError:
        pass
    record = IdempotentRequest.objects.filter(user=user, key=key).first()
    if record is not None and record.created_at <= now - ttl():
        # The first use has expired: it no longer counts. Deleted by pk and time, so a concurrent retry
        # that already replaced it is left alone; the caller claims again.
        IdempotentRequest.objects.filter(pk=record.pk, created_at=record.created_at).delete()
        return None, False
    return record, False


def _keep(record: IdempotentRequest, response: HttpResponse) -> None:
    IdempotentRequest.objects.filter(pk=record.pk).update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", "")[:100],
        body=bytes(response.content),
    )


def idempotent_call(
    request: HttpRequest,
    user: User,
    params: Mapping[str, Any],
    run: Callable[[], HttpResponse],
    fail: Fail,
    *,
    reference: object = None,
    exclude: Iterable[str] = (),
) -> HttpResponse:
    """Run `run()` at most once per (reseller, key) within the TTL; see the module's docstring."""
    key = idempotency_key(request, reference, fail)
    if key is None:
        return run()
    print_ = fingerprint(request, params, exclude)
    deadline = time.monotonic() + max(setting("IDEMPOTENCY_WAIT_SECONDS", DEFAULT_WAIT_SECONDS), 0)
    while True:
        record, first = _claim(user, key, print_)
        if first:
            break
        if record is not None:  # (None: gone since, expired or the first call refused: claim it again)
            if record.fingerprint != print_:
                return fail(Reason.KEY_REUSED)
            if record.status_code:
                return replay(record)
        if time.monotonic() >= deadline:
            return fail(Reason.KEY_IN_FLIGHT)
        if record is not None:
            time.sleep(POLL_SECONDS)  # the first call is still running: wait for its reply

    assert record is not None
    try:
        response = run()
    except BaseException:
        if _is_accepted(request):  # placed, then failed while answering: a retry must not place again
            _keep(record, fail(Reason.INTERNAL))
        else:
            record.delete()
        raise
    if _is_accepted(request):
        _keep(record, response)
    else:
        record.delete()  # refused, nothing charged: the key may be used again for this request
    return response


Handler = Callable[[HttpRequest, User, dict[str, str]], HttpResponse]


def idempotent(fail: Fail, reference: str | None = None) -> Callable[[Handler], Handler]:
    """For a `(request, user, params)` action handler; `reference` names the protocol's client reference
    field, which acts as the key too (and is left out of the fingerprint)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def wrapper(request: HttpRequest, user: User, params: dict[str, str]) -> HttpResponse:
            return idempotent_call(
                request,
                user,
                params,
                lambda: handler(request, user, params),
                fail,
                reference=params.get(reference) if reference else None,
                exclude=(reference,) if reference else (),
            )

        return wrapper

    return decorate


def idempotency_purge(now=None) -> int:
    """Delete the rows whose TTL has passed; returns how many."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotentRequest.objects.filter(created_at__lte=cutoff).delete()
    return deleted
