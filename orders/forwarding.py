"""Forwarding SMS delivery reports to resellers' own callback URLs (RajaSMS- and masking-compatible APIs).

orders.delivery calls `delivery_forward(recipient_ids)` after recipient states change. For each order
with a `client_callback_url`, one background task (orders.tasks.forward_delivery_reports) sends one report
per recipient, in the shape of the protocol the order came through (`Order.client_protocol`):

- RajaSMS (`/sms/api_sms_*_send_json.php` with a `callbackurl`): a JSON POST
  `{"sendingid": <recipient id>, "number": "62...", "deliverystatus": 1-10, "deliverystatustext": "..."}`.
- masking HTTP (`/api/masking/send.php`, to the URL the reseller saved on their API page): a GET
  `?session_id=<recipient id>&error_code=22|20|52|50&error_message=...&msisdn=62...` (provider-docs 003,
  "Callable API DLR"); a recipient still queued in the panel has no code yet and is not reported.

- Never in the way: enqueueing happens after the transaction commits, and any error while enqueueing is
  logged, never raised into the request or task that changed the recipients.
- Quick: 5 s per POST; after a few failures in a row the rest wait for the retry.
- Retried: failed reports are sent again by a one-off schedule with exponential backoff, at most
  MAX_ATTEMPTS sends in all.
- Guarded: the URL's host is resolved and refused if any address is loopback, private, link-local,
  reserved, multicast or otherwise not global (unless settings.SANDBOX_ENABLED or DEBUG). The POST
  goes to the address that was checked (the Host header and TLS name stay the URL's), so a DNS answer
  that changes between the check and the send cannot steer it inside the network.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from requests.adapters import HTTPAdapter

from orders.api.masking_codes import DLR_TEXTS, delivery_code
from providers.adapters.rajasms import DELIVERY_STATES
from providers.adapters.types import DeliveryState

logger = logging.getLogger(__name__)

TASK = "orders.tasks.forward_delivery_reports"
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min between the five attempts
TIMEOUT = (3.0, 5.0)  # connect, read
GIVE_UP_AFTER = 3  # consecutive failures in one attempt: the rest wait for the next attempt
USER_AGENT = "ResellerPanel/1.0 delivery-report"

# RajaSMS `deliverystatus` texts (provider-docs 002).
DELIVERY_TEXTS = {
    1: "Schedule",
    2: "Sent",
    3: "Delivered Success",
    4: "Delivered Error",
    5: "System Failed",
    6: "Saldo Minus/Expired",
    7: "Reject",
    8: "System Error",
    9: "Duplicate message",
    10: "Delivered Success Backup",
}
# The panel's delivery state -> the code sent when the upstream's own code does not say more.
STATE_CODES = {
    DeliveryState.QUEUED: 1,
    DeliveryState.SENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.FAILED: 4,
    DeliveryState.REJECTED: 7,
}


class CallbackRefused(Exception):
    """The callback URL may not be called (bad form, or an address inside the network)."""


class CallbackUnreachable(Exception):
    """The callback host cannot be resolved now (worth a retry)."""


# --- enqueueing (called from orders.delivery) ----------------------------------------------------------
def delivery_forward(recipient_ids: Sequence[int]) -> None:
    """Queue a RajaSMS-shaped callback for each changed recipient whose order has a client_callback_url:
    one task per order, enqueued once the current transaction commits. Never raises."""
    try:
        ids = list(recipient_ids)
        if not ids:
            return
        from orders.models import OrderRecipient

        by_order: dict[int, list[int]] = defaultdict(list)
        rows = (
            OrderRecipient.objects.filter(pk__in=ids)
            .exclude(order__client_callback_url="")
            .values_list("order_id", "pk")
            .order_by("pk")
        )
        for order_id, pk in rows:
            by_order[order_id].append(pk)
        for order_id, pks in by_order.items():
            transaction.on_commit(partial(_enqueue, order_id, pks, 1))
    except Exception:
        logger.exception("could not queue delivery-report forwarding for recipients %s", list(recipient_ids)[:20])


def _q_options() -> dict:
    """Run inline when Q_CLUSTER["sync"] is set (read per call, so tests can switch it on)."""
    cluster = getattr(settings, "Q_CLUSTER", None) or {}
    return {"sync": True} if cluster.get("sync") else {}


def _enqueue(order_id: int, recipient_ids: list[int], attempt: int) -> None:
    try:
        from django_q.tasks import async_task

        async_task(TASK, order_id, recipient_ids, attempt, task_name=f"dlr-forward-{order_id}", **_q_options())
    except Exception:
        logger.exception("forwarding delivery reports of order %s could not be queued", order_id)


def _retry(order_id: int, recipient_ids: list[int], attempt: int) -> None:
    """Send again later: a one-off schedule `BACKOFF_SECONDS * 2**(attempt-2)` from now."""
    from django_q.models import Schedule
    from django_q.tasks import schedule

    delay = BACKOFF_SECONDS * 2 ** max(attempt - 2, 0)
    schedule(
        TASK,
        order_id,
        recipient_ids,
        attempt,
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=timezone.now() + timedelta(seconds=delay),
    )


# --- the URL guard ------------------------------------------------------------------------------------
def _guarded() -> bool:
    return not (getattr(settings, "SANDBOX_ENABLED", False) or settings.DEBUG)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Only public unicast addresses: not loopback, private, link-local, reserved, shared or multicast."""
    return address.is_global and not address.is_multicast and not address.is_unspecified


@dataclass(frozen=True)
class Target:
    """Where to POST: the URL with the checked address in place of the host, and the original host."""

    url: str
    host_header: str
    hostname: str


def resolve_target(url: str) -> Target:
    """Check `url` and pin it to one resolved address. Raises CallbackRefused or CallbackUnreachable."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise CallbackRefused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise CallbackRefused("only http(s) URLs without credentials are called")
    hostname = parts.hostname
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CallbackUnreachable(f"cannot resolve {hostname}: {exc}") from None
    # IPv4 first: a server listening on one family mostly listens on IPv4
    addresses = sorted(dict.fromkeys(_address(info[4][0]) for info in infos), key=lambda a: a.version)
    if not addresses:
        raise CallbackUnreachable(f"{hostname} has no address")
    if _guarded():
        refused = [str(a) for a in addresses if not address_allowed(a)]
        if refused:
            raise CallbackRefused(f"{hostname} resolves to a non-public address ({', '.join(refused)})")
    address = addresses[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    default_port = 443 if parts.scheme == "https" else 80
    netloc = shown if port == default_port else f"{shown}:{port}"
    host_header = hostname if port == default_port else f"{hostname}:{port}"
    return Target(
        url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        host_header=host_header,
        hostname=hostname,
    )


class _PinnedAdapter(HTTPAdapter):
    """Connects to the checked address while TLS still verifies (and SNI names) the URL's host."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["server_hostname"] = self.hostname
        pool_kwargs["assert_hostname"] = self.hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def _session(target: Target) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the checked address is the one called
    adapter = _PinnedAdapter(target.hostname)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


# --- the payload and the send (the task body) -----------------------------------------------------------
def delivery_status(state: str, upstream_kind: str = "", upstream_code: str = "") -> tuple[int, str]:
    """RajaSMS `deliverystatus` and its text for a recipient: the upstream RajaSMS code when it agrees with
    the state (it may say more, e.g. 5 System Failed), else the state's own code."""
    state = DeliveryState(state)
    if upstream_kind == "rajasms" and upstream_code.isdigit():
        code = int(upstream_code)
        if DELIVERY_STATES.get(code) == state:
            return code, DELIVERY_TEXTS[code]
    code = STATE_CODES[state]
    return code, DELIVERY_TEXTS[code]


def callback_payload(recipient, upstream_kind: str = "") -> dict:
    code, text = delivery_status(recipient.state, upstream_kind, recipient.code)
    return {"sendingid": recipient.pk, "number": recipient.number, "deliverystatus": code, "deliverystatustext": text}


def forward_reports(order_id: int, recipient_ids: Sequence[int], attempt: int = 1) -> str:
    """POST the current delivery state of the recipients to the order's callback URL; schedule a retry
    for those that failed (at most MAX_ATTEMPTS attempts). Returns a summary for the task result."""
    from orders.models import Order, OrderRecipient

    order = Order.objects.select_related("provider").filter(pk=order_id).first()
    if order is None or not order.client_callback_url:
        return "nothing to forward"
    recipients = list(OrderRecipient.objects.filter(order_id=order_id, pk__in=list(recipient_ids)).order_by("pk"))
    recipients = [r for r in recipients if _request(order.client_protocol, r, order.provider.kind) is not None]
    if not recipients:
        return "nothing to forward"
    failed: list[int] = []
    try:
        target = resolve_target(order.client_callback_url)
    except CallbackRefused as exc:
        logger.warning("order %s: delivery reports not forwarded: %s", order_id, exc)
        return f"refused: {exc}"
    except CallbackUnreachable as exc:
        logger.info("order %s: %s", order_id, exc)
        failed = [r.pk for r in recipients]
    else:
        failed = _post_all(target, recipients, order.provider.kind, order_id, order.client_protocol)
    sent = len(recipients) - len(failed)
    if failed and attempt < MAX_ATTEMPTS:
        try:
            _retry(order_id, failed, attempt + 1)
        except Exception:
            logger.exception("order %s: could not schedule the retry of %s delivery reports", order_id, len(failed))
        return f"{sent} sent, {len(failed)} failed (attempt {attempt}, retry scheduled)"
    if failed:
        logger.warning("order %s: %s delivery reports given up after %s attempts", order_id, len(failed), attempt)
        return f"{sent} sent, {len(failed)} failed (attempt {attempt}, given up)"
    return f"{sent} sent"


MASKING = "masking"  # Order.client_protocol of sends through orders.api.masking


def masking_report(recipient) -> dict[str, str] | None:
    """The masking gateway's DLR query for a recipient; None while it has nothing to report."""
    code = delivery_code(recipient)
    if code is None:
        return None
    return {
        "session_id": str(recipient.pk),
        "error_code": code,
        "error_message": DLR_TEXTS[code],
        "msisdn": recipient.number,
    }


def _request(protocol: str, recipient, upstream_kind: str) -> dict | None:
    """requests' keyword arguments for one report in the order's protocol; None: nothing to report yet."""
    if protocol == MASKING:
        query = masking_report(recipient)
        return None if query is None else {"method": "GET", "params": query}
    return {"method": "POST", "json": callback_payload(recipient, upstream_kind)}


def _post_all(target: Target, recipients: list, upstream_kind: str, order_id: int, protocol: str = "") -> list[int]:
    failed: list[int] = []
    in_a_row = 0
    with _session(target) as session:
        for index, recipient in enumerate(recipients):
            if in_a_row >= GIVE_UP_AFTER:
                failed.extend(r.pk for r in recipients[index:])
                break
            call = _request(protocol, recipient, upstream_kind)
            try:
                response = session.request(
                    url=target.url,
                    headers={"Host": target.host_header},
                    timeout=TIMEOUT,
                    allow_redirects=False,
                    **call,
                )
                ok = 200 <= response.status_code < 300  # a redirect is not followed: not delivered
                reason = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                ok, reason = False, type(exc).__name__
            if ok:
                in_a_row = 0
            else:
                in_a_row += 1
                failed.append(recipient.pk)
                logger.info("order %s: delivery report %s not accepted: %s", order_id, recipient.pk, reason)
    return failed
