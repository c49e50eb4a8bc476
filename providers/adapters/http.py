"""The HTTP session every adapter sends through, and the reading of transport errors."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

USER_AGENT = "ResellerPanel/1.0 (+https://github.com/) python-requests"
BODY_EXCERPT = 300


def make_session() -> requests.Session:
    """A session that never retries on its own: a retried placement could order twice."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when a ConnectionError happened before the request left (refused, DNS, connect timeout)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | NameResolutionError | ConnectTimeoutError):
            return True
        reason = getattr(cause, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            cause = reason
            continue
        nxt = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        cause = nxt or cause.__cause__ or cause.__context__
    return False


def _innermost(exc: BaseException) -> BaseException:
    """The deepest error urllib3 wrapped (`reason` / first argument): "Failed to establish a new
    connection: [Errno 111] Connection refused" rather than the pool preamble quoting the URL."""
    seen = {id(exc)}
    while True:
        reason = getattr(exc, "reason", None)
        inner = reason if isinstance(reason, BaseException) else (exc.args[:1] or [None])[0]
        if not isinstance(inner, BaseException) or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner
