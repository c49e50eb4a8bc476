"""Provider credentials and API keys never appear in any rendered page, CSV or log line.

One *full run* (the module-scoped `full_run` fixture, about 10 s) drives the panel end to end: the five
sandbox providers (providers/sandbox/) served by pytest-django's `live_server` and reached over real HTTP
by the real adapters; an operator in the admin (logs in, types provider credentials into forms, runs the
provider actions with healthy and failing upstreams, opens every list and the change pages, approves a
deposit, reads the reports and downloads the CSVs); reseller A on the web pages (every page, an order of
each kind, refused and lost orders, an order action, a deposit request, a password change, two API keys);
resellers' scripts on the five downstream protocols over HTTP (good calls, wrong keys, bad parameters, an
upstream fault); the worker's tasks; delivery reports coming back to /callbacks/ and forwarded to a
reseller's callback URL; a garbled and a forged callback; 404s; and the management commands. Everything
the panel writes is captured, and the tests scan it for every secret of the run in each form a secret
takes in text: raw, URL-encoded (`quote` and `quote_plus`), HTML-escaped and JSON-escaped.

Secrets (all distinctive, so a hit is never a coincidence), one test per group:
- provider credentials: the API keys, the masking gateway's password and the Osimesa request signature
  md5(user id + key); and, separately, the login names (masking username, Osimesa user id), which the
  panel also stores encrypted and treats as write-only credentials;
- resellers' downstream API keys and their Osimesa signatures, including a key rotated away;
- each provider's callback token (the secret part of /callbacks/<id>/<token>/);
- SECRET_KEY and FIELD_ENCRYPTION_KEY (set to distinctive values for the run);
- every user's password, including one changed during the run.

What is captured:
- every response the test clients and the network clients receive (HTML, JSON, CSV; streaming responses
  joined), with the Location and Content-Disposition headers and the redirects followed;
- every log record exactly as production prints it: the real handler objects settings.LOGGING put on the
  loggers (root "console" with panel.logging.MaskSecretsFilter, shared by django.server; Django's own on
  "django"; django-q's) print into a recorder instead of stderr, record by record. pytest's caplog is not
  used: it sees records before the handler's filter. The root, providers, orders and django.request
  loggers run at DEBUG, so no level hides a line. django.db.backends stays at WARNING, as configured: at
  DEBUG it prints every SQL statement with its parameters, which no deployment runs with (and those hold
  only encrypted credentials and key hashes, never a plain secret). The live server's request handler,
  silent in tests, logs its access lines as runserver's does (`make demo` serves with runserver), so query
  strings and callback paths reach django.server;
- stdout and stderr of the management commands, the worker tasks' return values (django-q keeps them in
  its Success table, shown in the admin), mail.outbox, the reports POSTed to the reseller's callback URL,
  and the process's stdout and stderr during the run.

Not the panel's output, so captured apart and not scanned: log records of the upstream simulator (the
access and error lines of /sandbox/ requests, which are the vendor's web server, and whatever its code
logs, e.g. its DLR sender's HTTP client; in production the vendor is elsewhere and SANDBOX_ENABLED is off),
and the debug lines of this test's own HTTP clients (a reseller's script or a gateway logs on its own
machine).

Shown by design, so excluded exactly where they are shown:
- the callback URL, token included, on a provider's change page in the admin (the operator registers it
  with the gateway) and in `provider_add`'s output. Everything else is scanned for callback tokens;
- a new API key, once: in the response to "new key" on the API page and in `reseller_apikey`'s output,
  each only for the key it shows. The API page reloaded afterwards must not show it (asserted).

The assertion tests share one run, so its fixture is module-scoped: it opens the test database itself
(django_db_blocker) and empties it afterwards as TransactionTestCase does (flush), putting back the tiers and
markup rules of the data migrations.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client, override_settings
from django.test.testcases import QuietWSGIRequestHandler
from django.urls import reverse
from requests.adapters import HTTPAdapter

from accounts.models import ApiKey, DepositRequest, LedgerEntry, User
from accounts.services import wallet_get
from orders import tasks
from orders.models import CallbackEvent, Order, OrderRecipient
from panel.logging import MaskSecretsFilter
from providers.models import Provider, Service
from providers.sandbox import dlr
from providers.sandbox.models import SandboxAccount
from providers.sandbox.protocols import PROTOCOLS
from tests.api.helpers import Receiver, callback_receiver
from tests.conftest import worker_inline
from tests.orders.sandbox_shop import (
    LONG_DLR,
    MESSAGE,
    STEP,
    Shop,
    age_orders,
    deliver_due_reports,
    ensure_default_pricing,
    open_shop,
)
from tests.providers.e2e_helpers import hang_up

# --- the secrets of the run -----------------------------------------------------------------------------
PROVIDER_SECRET = "provider API key, password or signature"
PROVIDER_LOGIN = "provider login name"
RESELLER_KEY = "reseller API key"
CALLBACK_TOKEN = "provider callback token"
DJANGO_KEY = "Django key"
PASSWORD = "user password"

# Log records that are not the panel's output are kept (and counted) apart, and not scanned (see log_origin).
UPSTREAM_LOG = "simulated upstream's log"
CLIENT_LOG = "test client's log"
NOT_SCANNED = {UPSTREAM_LOG, CLIENT_LOG}

# The sandbox accounts (and so the providers) get these. Some carry characters that URL-encode and
# HTML-escape, so the encoded forms are really different from the raw one.
PROVIDER_CREDENTIALS: dict[str, dict[str, str]] = {
    "virtusim": {"api_key": "vs+LEAKCHECK/virtusim-key-4471=="},
    "smm_v2": {"api_key": "LEAKCHECK-smm-key-8f3a9c2e71d4"},
    "rajasms": {"api_key": "LEAKCHECK-raja-key-5b7e0d9a13c6"},
    "masking_http": {"username": "leakcheck_mask_user_62", "password": "Mask&Pass=LEAKCHECK/+91"},
    "osimesa": {"api_key": "LEAKCHECK-osimesa-key-c0ffee5ca1ab", "user_id": "77190348815"},
}
SECRET_KEY = "LEAKCHECK-django-secret-key-9c1f0a77e2b34d5f8a6e0c3b2d1f4e5a6b7c8d9e"
FIELD_ENCRYPTION_KEY = "TEVBS0NIRUNLLWZpZWxkLWVuY3J5cHRpb24ta2V5ISE="  # urlsafe base64 of 32 bytes
OPERATOR = ("ops_admin", "Ops-LEAKCHECK-pw-2291!")
RESELLER_A = ("ani_web", "Ani-LEAKCHECK-pw-5530!")
RESELLER_A_NEW_PASSWORD = "Ani-LEAKCHECK-newpw-8812!"
RESELLER_B = ("budi_api", "Budi-LEAKCHECK-pw-7046!")


@dataclass(frozen=True)
class Secret:
    label: str
    value: str
    group: str

    def forms(self) -> dict[str, str]:
        """The secret as it may appear in text, each distinct form once."""
        candidates = {
            "raw": self.value,
            "URL-encoded": quote(self.value, safe=""),
            "form-encoded": quote_plus(self.value),
            "HTML-escaped": html.escape(self.value),
            "JSON-escaped": json.dumps(self.value)[1:-1],
        }
        forms: dict[str, str] = {}
        for name, text in candidates.items():
            if text not in forms.values():
                forms[name] = text
        return forms


@dataclass
class Output:
    """One piece of text the panel produced, and where."""

    # page, json, csv (test client); api (over HTTP); log, UPSTREAM_LOG, CLIENT_LOG; command; task; email;
    # callback (POSTed to a reseller); stdio
    kind: str
    where: str
    text: str
    allowed: frozenset[str] = frozenset()  # secret labels or groups this output shows by design


@dataclass(frozen=True)
class Leak:
    secret: Secret
    form: str
    output: Output
    index: int

    def describe(self) -> str:
        text, shown = self.output.text, self.secret.forms()[self.form]
        line_no = text.count("\n", 0, self.index) + 1
        line_start = text.rfind("\n", 0, self.index) + 1
        start, end = max(self.index - 40, line_start), self.index + len(shown) + 40
        context = text[start:end].replace(shown, f"<<{self.secret.label}>>").replace("\n", "\\n")
        # A log line's head (time, level, logger) says which log line it was, however long the line.
        head = text[line_start : min(line_start + 60, start)]
        if line_start + 60 < start:
            head += " ... "
        return (
            f"{self.secret.label} ({self.form}) in {self.output.kind} [{self.output.where}], "
            f"line {line_no}: {head}{context}..."
        )


def find_leaks(outputs: Iterable[Output], secrets: Iterable[Secret]) -> list[Leak]:
    """Each line of each output showing a form of a secret (once per line and form), unless the output
    shows that secret by design."""
    secrets = list(secrets)
    leaks = []
    for output in outputs:
        for secret in secrets:
            if secret.label in output.allowed or secret.group in output.allowed:
                continue
            for form, text in secret.forms().items():
                index = output.text.find(text)
                while index >= 0:
                    leaks.append(Leak(secret, form, output, index))
                    line_end = output.text.find("\n", index)
                    index = output.text.find(text, line_end) if line_end >= 0 else -1
    return leaks


@dataclass
class Capture:
    """Everything the full run produced, and the secrets it knows."""

    outputs: list[Output] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    suppliers: dict[str, str] = field(default_factory=dict)  # what resellers never see -> what it is
    seconds: float = 0.0

    def add(self, kind: str, where: str, text: str, allowed: Iterable[str] = ()) -> None:
        self.outputs.append(Output(kind, where, text, frozenset(allowed)))

    def secret(self, label: str, value: str, group: str) -> str:
        assert value and len(value) >= 8, f"{label} is too short to scan for: {value!r}"
        self.secrets.append(Secret(label, value, group))
        return value

    def leaks(self, group: str) -> list[Leak]:
        scanned = [o for o in self.outputs if o.kind not in NOT_SCANNED]
        return find_leaks(scanned, [s for s in self.secrets if s.group == group])

    def of_kind(self, *kinds: str) -> list[Output]:
        return [o for o in self.outputs if o.kind in kinds]

    def log_lines(self) -> list[str]:
        return [line for o in self.of_kind("log") for line in o.text.splitlines() if line.strip()]

    def summary(self) -> str:
        # Each CSV capture: the Content-Disposition line, the header row, then the rows.
        csv_rows = sum(max(len(o.text.splitlines()) - 2, 0) for o in self.of_kind("csv"))
        return (
            f"{len(self.of_kind('page', 'json', 'csv'))} responses to browsers "
            f"({len(self.of_kind('page'))} pages, {len(self.of_kind('json'))} JSON, {len(self.of_kind('csv'))} CSV "
            f"with {csv_rows} rows), {len(self.of_kind('api'))} network replies, {len(self.log_lines())} log lines "
            f"(and {len(self.of_kind(UPSTREAM_LOG))} of the simulated upstream, {len(self.of_kind(CLIENT_LOG))} of "
            f"the test's clients, not scanned), "
            f"{len(self.of_kind('command'))} commands, {len(self.of_kind('task'))} task results, "
            f"{len(self.of_kind('callback'))} forwarded reports, {len(self.of_kind('email'))} mails; "
            f"{len(self.secrets)} secrets; {self.seconds:.1f} s"
        )


def assert_no_leaks(capture: Capture, group: str) -> None:
    secrets = [s for s in capture.secrets if s.group == group]
    assert secrets, f"the run registered no {group}"
    leaks = capture.leaks(group)
    shown = "\n".join(leak.describe() for leak in leaks[:30])
    more = f"\n... and {len(leaks) - 30} more" if len(leaks) > 30 else ""
    assert not leaks, f"{len(leaks)} leak(s) of a {group}:\n{shown}{more}"


class RunSettings:
    """pytest-django's `settings` for a whole module: each assignment is an override_settings, all undone
    by `restore`."""

    def __init__(self) -> None:
        object.__setattr__(self, "_overrides", [])

    def __getattr__(self, name: str) -> Any:
        return getattr(django_settings, name)

    def __setattr__(self, name: str, value: Any) -> None:
        override = override_settings(**{name: value})
        override.enable()
        self._overrides.append(override)

    def restore(self) -> None:
        while self._overrides:
            self._overrides.pop().disable()


# --- capturing the logs as production prints them ---------------------------------------------------------
VERBOSE_LOGGERS = ("", "providers", "orders", "django.request")  # "" is the root logger


def configured_handlers() -> dict[logging.Handler, list[str]]:
    """The handlers the logging configuration put on any logger (pytest's own capture handlers excluded),
    with the loggers each one is attached to."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    found: dict[logging.Handler, list[str]] = {}
    for lg in loggers:
        for handler in lg.handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue
            found.setdefault(handler, []).append(lg.name)
    return found


SANDBOX_CODE = "/providers/sandbox/"
SANDBOX_REQUEST = re.compile(r'(?:"[A-Z]+ |: )/sandbox/')  # django.server: "GET /sandbox/..."; django.request


def log_origin(record: logging.LogRecord) -> str:
    """Whose line a record is. The panel's, unless it is the upstream simulator's (the access and error log
    of a /sandbox/ request, i.e. the vendor's web server, or anything logged while simulator code runs,
    e.g. the HTTP client of its DLR sender: in production the vendor is elsewhere and SANDBOX_ENABLED is
    off) or this test's own network clients' (their HTTP library's debug lines: a reseller's script or a
    gateway logs on its own machine, not in the panel's log)."""
    if record.name in ("django.server", "django.request") and SANDBOX_REQUEST.search(record.getMessage()):
        return UPSTREAM_LOG
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if SANDBOX_CODE in filename:
            return UPSTREAM_LOG
        if filename == __file__ and frame.f_code.co_name == Wire.call.__name__:
            return CLIENT_LOG
        frame = frame.f_back
    return "log"


class RecordStream:
    """What a StreamHandler prints, kept one formatted record at a time (it writes each record, then
    flushes), with the logger, level and origin of each."""

    def __init__(self, handler: logging.StreamHandler, loggers: list[str]) -> None:
        self.writes: list[str] = []
        self.records: list[tuple[str, str, str]] = []  # (origin, where, formatted text)
        self.name = f"handler {handler.name or type(handler).__name__!r} on {', '.join(loggers)}"
        original = handler.emit

        def emit(record: logging.LogRecord) -> None:  # called by handler.handle(): filtered, under its lock
            written = len(self.writes)
            original(record)
            text = "".join(self.writes[written:])
            del self.writes[written:]
            if text:
                self.records.append((log_origin(record), f"{self.name}: {record.levelname} {record.name}", text))

        handler.emit = emit  # type: ignore[method-assign]

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def production_logs(capture: Capture, *, level: int = logging.DEBUG, masked: bool = True) -> Iterator[None]:
    """Point every configured stream handler at a RecordStream, run the verbose loggers at `level`, let the
    live server write runserver's access log, and catch the process's stdout and stderr. On exit each
    printed log record becomes one Output."""
    import django_q.conf  # noqa: F401  # configures django-q's own logger, so its handler is found too

    handlers = {h: names for h, names in configured_handlers().items() if isinstance(h, logging.StreamHandler)}
    console = next(h for h, names in handlers.items() if "root" in names)
    has_mask = any(isinstance(f, MaskSecretsFilter) for f in console.filters)
    assert has_mask == masked, "the root console handler's MaskSecretsFilter is not as expected"
    recorders = {handler: RecordStream(handler, names) for handler, names in handlers.items()}
    streams = {handler: handler.setStream(recorders[handler]) for handler in handlers}
    levels = {name: logging.getLogger(name).level for name in VERBOSE_LOGGERS}
    for name in VERBOSE_LOGGERS:
        logging.getLogger(name).setLevel(level)
    quiet = QuietWSGIRequestHandler.__dict__["log_message"]
    QuietWSGIRequestHandler.log_message = WSGIRequestHandler.log_message  # type: ignore[method-assign]
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            yield
    finally:
        QuietWSGIRequestHandler.log_message = quiet  # type: ignore[method-assign]
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
        for handler, stream in streams.items():
            handler.setStream(stream)
            del handler.emit  # the class's own emit again
        for recorder in recorders.values():
            for number, (origin, where, text) in enumerate(recorder.records, start=1):
                capture.add(origin, f"log record {number} of {where}", text)
        capture.add("stdio", "process stdout", stdout.getvalue())
        capture.add("stdio", "process stderr", stderr.getvalue())


# --- clients that keep what they were shown ---------------------------------------------------------------
@dataclass
class Page:
    text: str
    url: str  # where the redirects led


def response_text(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode(response.charset or "utf-8", errors="replace")
    headers = [f"{name}: {response[name]}" for name in ("Location", "Content-Disposition") if response.has_header(name)]
    return "\n".join([*headers, text])


PROVIDER_PAGE = re.compile(r"^/admin/providers/provider/\d+/change/$")


class Browser:
    """One person's test client; every response it receives is captured. In an operator's browser a
    provider's admin page shows its callback URL, by design: the operator registers it with the gateway."""

    def __init__(self, capture: Capture, who: str, *, operator: bool = False) -> None:
        self.capture = capture
        self.who = who
        self.operator = operator
        self.client = Client()

    def get(self, path: str, data: dict[str, Any] | None = None, *, status: int = 200, **kw: Any) -> Page:
        return self._record("GET", path, self.client.get(path, data, **kw), status)

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        status: int = 200,
        follow: bool = False,
        allow: Iterable[str] = (),
        **kw: Any,
    ) -> Page:
        return self._record("POST", path, self.client.post(path, data or {}, follow=follow, **kw), status, allow)

    def _record(self, method: str, path: str, response: Any, status: int, allow: Iterable[str] = ()) -> Page:
        text = response_text(response)
        chain = [url for url, _code in getattr(response, "redirect_chain", [])]
        url = chain[-1] if chain else path
        content_type = response.get("Content-Type", "")
        kind = "csv" if "text/csv" in content_type else "json" if "json" in content_type else "page"
        allowed = set(allow)
        if self.operator and PROVIDER_PAGE.match(url):
            allowed.add(CALLBACK_TOKEN)  # the provider's callback URL, for the operator to register upstream
        where = f"{self.who}: {method} {path}" + (f" -> {' -> '.join(chain)}" if chain else "")
        self.capture.add(kind, where, "\n".join([*chain, text]), allowed)
        assert response.status_code == status, f"{where}: HTTP {response.status_code}, expected {status}\n{text[:600]}"
        return Page(text, url)


class Wire:
    """A client on the network (a reseller's script, a gateway) talking to the live server over HTTP."""

    def __init__(self, capture: Capture, root: str, who: str) -> None:
        self.capture = capture
        self.root = root
        self.who = who
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=0))

    def call(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, self.root + path, timeout=30, **kwargs)
        where = f"{self.who}: {method} {path}"
        self.capture.add("api", where, response.text)
        assert response.status_code == status, f"{where}: HTTP {response.status_code}\n{response.text[:600]}"
        return response

    def close(self) -> None:
        self.session.close()


def run_command(capture: Capture, title: str, name: str, *args: str, allow: Iterable[str] = ()) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:  # the commands exit 1 when an upstream failed; their output is what counts
        err.write(f"[exit {exc.code}]")
    text = out.getvalue() + err.getvalue()
    capture.add("command", f"manage.py {title}", text, allow)
    return text


def run_task(capture: Capture, task: Any) -> str:
    result = str(task())
    capture.add("task", f"orders.tasks.{task.__name__}", result)
    return result


# --- the scenario ---------------------------------------------------------------------------------------------
ORDER_ID = re.compile(r"/pesanan/(\d+)/$")
TOKEN = re.compile(r'name="token" value="([^"]+)"')
NEW_KEY = re.compile(r'data-testid="new-key">([0-9a-f]{48})<')


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def open_sandbox(capture: Capture, root: str, settings: RunSettings) -> Shop:
    """The five sandbox accounts with the run's credentials, then the providers the way the demo makes them."""
    for kind, creds in PROVIDER_CREDENTIALS.items():
        SandboxAccount.objects.create(kind=kind, name=f"demo-{kind}", balance=PROTOCOLS[kind].demo_balance, **creds)
        for name, value in creds.items():
            group = PROVIDER_LOGIN if name in ("username", "user_id") else PROVIDER_SECRET
            capture.secret(f"{kind} {name}", value, group)
    osimesa = PROVIDER_CREDENTIALS["osimesa"]
    capture.secret("osimesa request sign", md5(osimesa["user_id"] + osimesa["api_key"]), PROVIDER_SECRET)
    shop = open_shop(root, settings)
    for kind, provider in shop.providers.items():
        capture.secret(f"{kind} callback token", provider.callback_token, CALLBACK_TOKEN)
    return shop


def place_web_order(browser: Browser, kind: str, data: dict[str, Any]) -> int:
    """Form -> confirmation (with the charge) -> pay, as the reseller clicks through it. The order's id."""
    browser.get(reverse("order_new", args=[kind]), {k: v for k, v in data.items() if k == "service"})
    confirm = browser.post(reverse("order_new", args=[kind]), data)
    token = TOKEN.search(confirm.text)
    assert token, f"no confirmation for {kind}: {confirm.text[:400]}"
    paid = browser.post(reverse("order_place", args=[kind]), {**data, "token": token.group(1)}, follow=True)
    match = ORDER_ID.search(paid.url)
    assert match, f"paying for {kind} did not lead to the order: {paid.url}"
    return int(match.group(1))


def reseller_web_session(capture: Capture, shop: Shop, ani: User) -> tuple[Browser, dict[str, int]]:
    """Reseller A on the web: every page, an order of every kind (some refused or lost upstream), an order
    action, a deposit request, a password change and two API keys."""
    web = Browser(capture, f"reseller {ani.username}")
    web.get(reverse("login"))
    web.post(reverse("login"), {"username": ani.username, "password": "not-the-password-123"})  # refused
    web.post(reverse("login"), {"username": ani.username, "password": RESELLER_A[1]}, status=302)
    web.get(reverse("dashboard"))
    web.get(reverse("catalogue"))
    for kind in ("otp", "smm", "prepaid", "sms"):
        web.get(reverse("catalogue"), {"kind": kind})
        web.get(reverse("order_new", args=[kind]))
    web.get(reverse("catalogue"), {"q": "Telkomsel"})
    web.get(reverse("order_start"))
    web.get(reverse("order_price"), {"kind": "smm", "service": shop.smm.pk, "quantity": "1000"})

    orders = {
        "otp": place_web_order(web, "otp", {"service": shop.otp.pk, "operator": "any"}),
        "otp_cancelled": place_web_order(web, "otp", {"service": shop.otp_services[1].pk, "operator": "any"}),
        "smm": place_web_order(
            web, "smm", {"service": shop.smm.pk, "link": "https://instagram.com/p/leakcheck", "quantity": "1000"}
        ),
        "prepaid": place_web_order(web, "prepaid", {"service": shop.prepaid.pk, "target": "081234567890"}),
        "sms_reguler": place_web_order(
            web, "sms", {"sms_type": "reguler", "message": MESSAGE, "recipients": "081234567890\n081234567894"}
        ),
        "sms_masking": place_web_order(
            web, "sms", {"sms_type": "masking", "message": MESSAGE, "recipients": "081234567891\n081234567895"}
        ),
    }
    assert Order.objects.get(pk=orders["sms_masking"]).provider.kind == "masking_http"

    # Error paths: a refusal (the upstream balance is gone), replies garbled after the upstream acted.
    osimesa = shop.accounts["osimesa"]
    SandboxAccount.objects.filter(pk=osimesa.pk).update(balance=Decimal("0"))
    orders["prepaid_refused"] = place_web_order(web, "prepaid", {"service": shop.prepaid.pk, "target": "081298765432"})
    SandboxAccount.objects.filter(pk=osimesa.pk).update(balance=PROTOCOLS["osimesa"].demo_balance)
    assert Order.objects.get(pk=orders["prepaid_refused"]).status == "failed"
    with shop.fault("smm_v2", "invalid_json", "order"):
        orders["smm_unknown"] = place_web_order(
            web, "smm", {"service": shop.smm.pk, "link": "https://instagram.com/p/garbled", "quantity": "1000"}
        )
    with shop.fault("virtusim", "invalid_json", "order"):
        orders["otp_unknown"] = place_web_order(web, "otp", {"service": shop.otp_services[2].pk, "operator": "any"})
    assert Order.objects.get(pk=orders["otp_unknown"]).status == "unknown"

    web.post(reverse("order_action", args=[orders["otp_cancelled"]]), {"action": "cancel"}, follow=True)
    web.get(reverse("order_list"))
    web.get(reverse("order_list"), {"status": "failed"})
    web.get(reverse("balance"))
    web.get(reverse("deposit"))
    web.post(reverse("deposit"), {"amount": "150000", "method": "bank", "note": "transfer BCA"}, follow=True)
    web.get(reverse("password_change"))
    web.post(
        reverse("password_change"),
        {
            "old_password": RESELLER_A[1],
            "new_password1": RESELLER_A_NEW_PASSWORD,
            "new_password2": RESELLER_A_NEW_PASSWORD,
        },
        follow=True,
    )
    return web, orders


def rotate_key(capture: Capture, web: Browser, label: str) -> str:
    """ "New key" on the API page: this one response shows the key (by design); the page reloaded does not."""
    shown = web.post(reverse("api_key_rotate"), allow=[label])
    match = NEW_KEY.search(shown.text)
    assert match, "the new key is not shown once"
    key = capture.secret(label, match.group(1), RESELLER_KEY)
    assert key not in web.get(reverse("api_key")).text
    return key


def api_session(capture: Capture, shop: Shop, root: str, budi: User, key: str, receiver: Receiver) -> Wire:
    """Reseller B's script on all five downstream protocols, with refusals and an upstream fault."""
    wire = Wire(capture, root, f"reseller {budi.username}'s script")
    sign = capture.secret(f"{budi.username} Osimesa sign", md5(f"{budi.pk}{key}"), RESELLER_KEY)
    otp, smm, prepaid = str(shop.otp.pk), str(shop.smm.pk), str(shop.prepaid.pk)

    # VirtuSIM: the key travels in the query string (so it reaches the access log, masked).
    wire.call("GET", "/api/json.php", params={"api_key": key, "action": "services"})
    placed = wire.call("GET", "/api/json.php", params={"api_key": key, "action": "order", "service": otp}).json()
    assert placed["status"] is True, placed
    otp_id = str(placed["data"]["id"])
    wire.call("GET", "/api/json.php", params={"api_key": key, "action": "status", "id": otp_id})
    wire.call("GET", "/api/json.php", params={"api_key": key, "action": "active_order"})
    wire.call("GET", "/api/json.php", params={"api_key": key, "action": "set_status", "id": otp_id, "status": "2"})
    wire.call("GET", "/api/json.php", params={"api_key": "LEAKCHECK-wrong-key-000000000000", "action": "services"})
    wire.call("GET", "/api/json.php", params={"api_key": key, "action": "order", "service": "999999"})
    with shop.fault("virtusim", "html502", "order"):
        wire.call(
            "GET",
            "/api/json.php",
            params={"api_key": key, "action": "order", "service": str(shop.otp_services[3].pk)},
        )

    # SMM v2: form key, and the Bearer header.
    wire.call("POST", "/api/v2", data={"key": key, "action": "services"})
    wire.call("POST", "/api/v2", data={"action": "balance"}, headers={"Authorization": f"Bearer {key}"})
    added = wire.call(
        "POST",
        "/api/v2",
        data={"key": key, "action": "add", "service": smm, "link": "https://tiktok.com/@leakcheck", "quantity": "500"},
    ).json()
    assert "order" in added, added
    wire.call("POST", "/api/v2", data={"key": key, "action": "status", "order": str(added["order"])})
    wire.call("POST", "/api/v2", data={"key": key, "action": "add", "service": smm})  # no link, no quantity
    wire.call("POST", "/api/v2", data={"key": "LEAKCHECK-wrong-key-111111111111", "action": "balance"})

    # Osimesa: key + sign in the form.
    wire.call("POST", "/api/prepaid", data={"key": key, "sign": sign, "type": "service"})
    wire.call(
        "POST",
        "/api/prepaid",
        data={"key": key, "sign": sign, "type": "order", "service": prepaid, "data_no": "081311112222"},
    )
    wire.call("POST", "/api/prepaid", data={"key": key, "sign": sign, "type": "status"})
    wire.call("POST", "/api/prepaid", data={"key": key, "sign": "0" * 32, "type": "service"}, status=401)
    wire.call("POST", "/api/prepaid", data={"key": key, "sign": sign, "type": "order", "service": prepaid}, status=400)

    # RajaSMS: JSON body, delivery reports forwarded to the reseller's callback URL.
    packets = [{"number": "081234567892", "message": MESSAGE}, {"number": "081234567893", "message": MESSAGE}]
    sent = wire.call(
        "POST",
        "/sms/api_sms_reguler_send_json.php",
        json={"apikey": key, "callbackurl": receiver.url, "datapacket": packets},
    ).json()
    assert sent["sending_respon"][0]["globalstatus"] == 10, sent
    wire.call("POST", "/sms/api_sms_reguler_balance_json.php", json={"apikey": key})
    wire.call("POST", "/sms/api_sms_reguler_send_json.php", json={"apikey": "LEAKCHECK-wrong-key-2222222222"})
    wire.call("POST", "/sms/api_sms_otp_send_json.php", data=b"{not json", headers={"Content-Type": "application/json"})
    with shop.fault("rajasms", "empty", "order"):
        wire.call(
            "POST",
            "/sms/api_sms_otp_send_json.php",
            json={"apikey": key, "datapacket": [{"number": "081234567896", "message": MESSAGE}]},
        )

    # Masking HTTP: username + key as `password`, in the query string of GETs (the access log masks it).
    login = {"username": budi.username, "password": key}
    report_id = wire.call("GET", "/api/masking/send.php", params={**login, "hp": "6281234567897", "message": MESSAGE})
    assert report_id.text.isdigit(), report_id.text
    wire.call("POST", "/api/masking/send_post.php", data={**login, "hp": "6281234567898", "message": MESSAGE})
    wire.call("GET", "/api/masking/report.php", params={**login, "rpt": report_id.text})
    wire.call("GET", "/api/masking/balance.php", params=login)
    wire.call("POST", "/api/masking/reports_post.php", data={**login, "start": "01-01-2026", "end": "02-01-2026"})
    wire.call("GET", "/api/masking/inbox.php", params=login)
    wire.call("GET", "/api/masking/send.php", params={**login, "password": "LEAKCHECK-wrong-key-333333333333"})
    wire.call("GET", "/api/masking/send.php", params={**login, "hp": "12", "message": MESSAGE})
    wire.call("GET", "/api/openapi.json")
    return wire


def operator_actions(shop: Shop, ops: Browser) -> None:
    """The operator logs in to the admin, types credentials into provider forms (each refused once, then
    saved) and runs the provider actions, with healthy upstreams and with failing ones."""
    ops.get(reverse("admin:login"))
    ops.post(reverse("admin:login"), {"username": OPERATOR[0], "password": "wrong-password-Ops-1"})
    ops.post(reverse("admin:login"), {"username": OPERATOR[0], "password": OPERATOR[1], "next": "/admin/"}, status=302)
    ops.get(reverse("admin:index"))
    ops.get(reverse("admin:providers_provider_add"))
    for kind in ("rajasms", "masking_http"):
        provider = shop.providers[kind]
        change = reverse("admin:providers_provider_change", args=[provider.pk])
        form = {
            "name": provider.name,
            "kind": provider.kind,
            "base_url": provider.base_url,
            "enabled": "on",
            "options": "{}",
            "low_balance_threshold": "500000",
            **dict.fromkeys(("api_key", "user_id", "username", "password"), ""),
            **PROVIDER_CREDENTIALS[kind],
        }
        refused = ops.post(change, {**form, "base_url": "not a url"})  # the form comes back, with an error
        assert "errorlist" in refused.text
        ops.post(change, {**form, "_continue": "1"}, follow=True)

    changelist = reverse("admin:providers_provider_changelist")
    every = [str(p.pk) for p in Provider.objects.order_by("pk")]
    for action in ("test_connection", "fetch_balance", "sync_now"):
        ops.post(changelist, {"action": action, "_selected_action": every, "index": "0"}, follow=True)
    with shop.fault("rajasms", "empty", "all"), shop.unreachable("masking_http"):
        ops.post(changelist, {"action": "fetch_balance", "_selected_action": every, "index": "0"}, follow=True)
    with shop.fault("smm_v2", "html502", "all"), shop.unreachable("virtusim"):
        ops.post(changelist, {"action": "test_connection", "_selected_action": every, "index": "0"}, follow=True)
    with shop.fault("osimesa", "wrong_types", "all"):
        ops.post(changelist, {"action": "sync_now", "_selected_action": every, "index": "0"}, follow=True)
    ops.get(reverse("admin:providers_provider_balances"))


def operator_sweep(ops: Browser, ani: User) -> None:
    """Every admin list, the change page of each provider, order, API key, deposit and user and of some
    services and ledger entries, the order and deposit actions, the reports and their CSVs."""
    deposit = DepositRequest.objects.get(user=ani)
    deposits = reverse("admin:accounts_depositrequest_changelist")
    ops.post(deposits, {"action": "approve", "_selected_action": [str(deposit.pk)], "index": "0"}, follow=True)
    unknown = [str(pk) for pk in Order.objects.filter(status="unknown").values_list("pk", flat=True)]
    orders = reverse("admin:orders_order_changelist")
    if unknown:
        ops.post(orders, {"action": "refresh_now", "_selected_action": unknown, "index": "0"}, follow=True)

    for model in admin.site._registry:
        meta = model._meta
        ops.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    first_services = [Service.objects.filter(provider=p).order_by("pk").first() for p in Provider.objects.all()]
    pages = {
        "providers_provider": list(Provider.objects.values_list("pk", flat=True)),
        "providers_service": [s.pk for s in first_services if s is not None],
        "orders_order": list(Order.objects.values_list("pk", flat=True)),
        "orders_callbackevent": list(CallbackEvent.objects.values_list("pk", flat=True)[:5]),
        "accounts_ledgerentry": list(LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True)[:10]),
        "accounts_apikey": list(ApiKey.objects.values_list("pk", flat=True)),
        "accounts_depositrequest": list(DepositRequest.objects.values_list("pk", flat=True)),
        "accounts_user": list(User.objects.values_list("pk", flat=True)),
    }
    for name, pks in pages.items():
        for pk in pks:
            ops.get(reverse(f"admin:{name}_change", args=[pk]))
    for report in ("reports_profit", "reports_balances"):
        ops.get(reverse(f"admin:{report}"))
    for csv_name in ("reports_orders_csv", "reports_ledger_csv", "reports_profit_csv"):
        ops.get(reverse(f"admin:{csv_name}"))


def worker_ticks(capture: Capture, shop: Shop, orders: dict[str, int]) -> None:
    """Time passes upstream; the worker's tasks run, as django-q would run them; delivery reports come back
    over HTTP to /callbacks/<id>/<token>/, and the reseller's are forwarded to their callback URL."""
    for task in (tasks.refresh_orders, tasks.poll_sms_reports, tasks.reconcile_orders):
        run_task(capture, task)
    shop.pass_time(STEP + 1)
    run_task(capture, tasks.refresh_orders)
    shop.pass_time(STEP + 1)
    run_task(capture, tasks.refresh_orders)
    age_orders((django_settings.OTP_EXPIRY_MINUTES + 1) * 60, pk=orders["otp"])
    run_task(capture, tasks.expire_otp_orders)
    with shop.fault("virtusim", "wrong_types", "status"):
        run_task(capture, tasks.refresh_orders)
    # Delivery reports: sent one after another right after the clock moves, so no sandbox timer races them.
    shop.pass_time(LONG_DLR + 1, "rajasms")
    assert deliver_due_reports(shop.account("rajasms")) >= 2
    shop.pass_time(LONG_DLR + 1, "masking_http")
    assert deliver_due_reports(shop.account("masking_http")) >= 2
    age_orders(600, kind="sms")
    for task in (
        tasks.poll_sms_reports,
        tasks.reconcile_orders,
        tasks.poll_provider_balances,
        tasks.sync_catalogues,
        tasks.refresh_orders,
    ):
        run_task(capture, task)


def gateway_callbacks(capture: Capture, shop: Shop, root: str) -> Wire:
    """What else reaches the callback endpoint: a garbled report and a forged token."""
    gateway = Wire(capture, root, "a gateway")
    raja = shop.providers["rajasms"]
    gateway.call(
        "POST",
        f"/callbacks/{raja.pk}/{raja.callback_token}/",
        data=b"{garbled",
        headers={"Content-Type": "application/json"},
        status=400,
    )
    gateway.call("POST", f"/callbacks/{raja.pk}/{'f' * 40}/", json={"sendingid": 1}, status=404)
    return gateway


def routine_commands(capture: Capture) -> None:
    """What an operator runs from a shell (or cron) on a working day."""
    for name in ("provider_balance", "catalogue_sync", "orders_refresh", "ledger_check", "pricing_refresh"):
        run_command(capture, name, name)


def run_scenario(capture: Capture, root: str, settings: RunSettings) -> None:
    """The panel's working day, end to end (see the module docstring), with the run's secrets."""
    settings.SECRET_KEY = capture.secret("SECRET_KEY", SECRET_KEY, DJANGO_KEY)
    settings.FIELD_ENCRYPTION_KEY = capture.secret("FIELD_ENCRYPTION_KEY", FIELD_ENCRYPTION_KEY, DJANGO_KEY)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the suite's autouse fixture
    settings.Q_CLUSTER = {**django_settings.Q_CLUSTER, "sync": True}  # forwarded reports go out inline
    settings.ADMIN_2FA = False  # the development default: operators log in with a password
    for label, password in (
        ("operator password", OPERATOR[1]),
        ("reseller A password", RESELLER_A[1]),
        ("reseller A new password", RESELLER_A_NEW_PASSWORD),
        ("reseller B password", RESELLER_B[1]),
    ):
        capture.secret(label, password, PASSWORD)

    shop = open_sandbox(capture, root, settings)
    operator = User.objects.create_superuser(OPERATOR[0], email="ops@example.com", password=OPERATOR[1])
    wallet_get(operator)
    for username, password in (RESELLER_A, RESELLER_B):
        run_command(
            capture,
            f"reseller_add {username}",
            "reseller_add",
            username,
            "--password",
            password,
            "--deposit",
            "1000000",
        )
    ani, budi = User.objects.get(username=RESELLER_A[0]), User.objects.get(username=RESELLER_B[0])
    # Prints the new key once, for the operator to hand over: by design, for that key only.
    printed = run_command(capture, "reseller_apikey", "reseller_apikey", budi.username, allow=["reseller B key"])
    budi_key = capture.secret("reseller B key", printed.strip().splitlines()[-1], RESELLER_KEY)
    raja = shop.providers["rajasms"]
    # Prints an SMS gateway's callback URL for the operator to register with the gateway: by design.
    run_command(
        capture,
        "provider_add rajasms NAME --url URL --api-key ***",
        "provider_add",
        "rajasms",
        raja.name,
        "--url",
        raja.base_url,
        "--api-key",
        PROVIDER_CREDENTIALS["rajasms"]["api_key"],
        allow=[CALLBACK_TOKEN],
    )
    routine_commands(capture)

    ops = Browser(capture, f"operator {OPERATOR[0]}", operator=True)
    operator_actions(shop, ops)

    web, orders = reseller_web_session(capture, shop, ani)
    web.get(reverse("api_key"))
    first_key = rotate_key(capture, web, "reseller A first key")
    a_script = Wire(capture, root, f"reseller {ani.username}'s script")
    a_script.call("GET", "/api/json.php", params={"api_key": first_key, "action": "active_order"})
    a_script.call("POST", "/api/v2", data={"key": first_key, "action": "balance"})
    second_key = rotate_key(capture, web, "reseller A second key")
    refused = a_script.call("GET", "/api/json.php", params={"api_key": first_key, "action": "active_order"}).json()
    assert refused["status"] is False, refused  # the rotated-away key no longer works
    a_script.call("POST", "/api/v2", data={"key": second_key, "action": "balance"})

    with callback_receiver() as receiver:
        b_script = api_session(capture, shop, root, budi, budi_key, receiver)
        worker_ticks(capture, shop, orders)
        forwarded = receiver.bodies()
    assert forwarded, "no delivery report was forwarded to the reseller"
    for body in forwarded:
        capture.add("callback", f"POST {body['path']} (forwarded delivery report)", json.dumps(body))
    gateway = gateway_callbacks(capture, shop, root)
    routine_commands(capture)

    # The reseller comes back: every order page and its live status, the lists, the CSVs.
    for pk in Order.objects.filter(user=ani).values_list("pk", flat=True):
        web.get(reverse("order_detail", args=[pk]))
        web.get(reverse("order_status", args=[pk]))
    web.get(reverse("order_list"))
    web.get(reverse("dashboard"))
    web.get(reverse("balance"))
    web.get(reverse("deposit"))
    web.get(reverse("api_key"))
    web.get(reverse("orders_csv"))
    web.get(reverse("ledger_csv"))
    web.get("/tidak-ada/", status=404)
    web.get(reverse("order_detail", args=[999999]), status=404)

    budi_web = Browser(capture, f"reseller {budi.username}")
    budi_web.post(reverse("login"), {"username": budi.username, "password": RESELLER_B[1]}, status=302)
    for pk in Order.objects.filter(user=budi).values_list("pk", flat=True):
        budi_web.get(reverse("order_detail", args=[pk]))
    budi_web.get(reverse("order_list"))
    budi_web.get(reverse("orders_csv"))
    budi_web.get(reverse("ledger_csv"))
    budi_web.get(reverse("api_key"))

    operator_sweep(ops, ani)
    ops.post(reverse("admin:logout"), status=302)
    web.post(reverse("logout"), status=302)

    for message in mail.outbox:
        capture.add("email", f"mail {message.subject!r}", message.message().as_string())
    for wire in (a_script, b_script, gateway):
        wire.close()


@pytest.fixture(scope="module")
def full_run(django_db_setup: None, django_db_blocker: Any, live_server: Any) -> Capture:
    capture = Capture()
    started = time.monotonic()
    with django_db_blocker.unblock():
        # Content type ids cached by earlier tests may name rows their rolled-back transactions created;
        # this run commits (admin log entries), so it looks them up afresh.
        ContentType.objects.clear_cache()
        settings = RunSettings()
        cache.clear()
        mail.outbox = []
        settled = False
        try:
            with production_logs(capture), pytest.MonkeyPatch.context() as patch:
                worker_inline(patch)
                try:
                    run_scenario(capture, live_server.url, settings)
                    capture.suppliers = collect_suppliers()
                finally:
                    settled = hang_up(live_server)
        finally:
            dlr.cancel_pending()
            cache.clear()
            settings.restore()
            call_command("flush", interactive=False, verbosity=0)
            ensure_default_pricing()
    assert settled, "the live server still had request threads running after the run"
    capture.seconds = time.monotonic() - started
    return capture


def collect_suppliers() -> dict[str, str]:
    """Provider names, addresses and upstream ids of the run (read before the database is flushed).
    Upstream ids shorter than 6 characters are left out: a bare "12" would match any number on a page."""
    found: dict[str, str] = {}
    for provider in Provider.objects.all():
        found[provider.name] = f"provider name of {provider.kind}"
        found[provider.base_url.split("://", 1)[-1].rstrip("/")] = f"address of {provider.name}"
    # The sandbox's OTP codes are 6-digit numbers too: an SMM id (100000 + sandbox pk) can equal the code an OTP
    # order shows its reseller (sandbox order 193's code is "100195", sandbox order 195's SMM id). That is the
    # reseller's own code, not a leak; such a value is left out of the scan.
    codes = set(Order.objects.exclude(otp_code="").values_list("otp_code", flat=True))
    for external_id, kind in Order.objects.exclude(external_id="").values_list("external_id", "kind"):
        if len(external_id) >= 6 and external_id not in codes:
            found[external_id] = f"upstream id of a {kind} order"
    for external_id in OrderRecipient.objects.exclude(external_id="").values_list("external_id", flat=True):
        if len(external_id) >= 6:
            found[external_id] = "upstream id of an SMS packet"
    return found


# --- the assertions -------------------------------------------------------------------------------------------
def test_the_run_covered_the_panel_and_captured_its_output(full_run: Capture) -> None:
    """The scan cannot pass for want of material: pages, replies, CSV rows and log lines of every part."""
    print(full_run.summary())
    assert len(full_run.of_kind("page")) >= 80
    assert len(full_run.of_kind("json")) >= 10
    assert len(full_run.of_kind("csv")) == 7
    assert len(full_run.of_kind("api")) >= 25
    assert len(full_run.of_kind("command")) >= 10
    assert len(full_run.of_kind("task")) >= 10
    lines = full_run.log_lines()
    assert len(lines) >= 100
    for provider in ("Sandbox VirtuSIM", "Sandbox SMM", "Sandbox RajaSMS", "Sandbox Masking", "Sandbox Osimesa"):
        assert any(f"providers.http: {provider} " in line for line in lines), f"no request line of {provider}"
    access = [line for line in lines if " django.server: " in line]
    assert any('"POST /callbacks/' in line for line in access) and any('"GET /api/json.php?' in line for line in access)
    upstream = [o.text for o in full_run.of_kind(UPSTREAM_LOG)]
    assert any(' django.server: "GET /sandbox/' in text for text in upstream)
    assert any(" django.request: Not Found" in line for line in lines)
    assert any(" WARNING orders.submission: order " in line for line in lines)  # an order's outcome unknown
    assert len({s.group for s in full_run.secrets}) == 6


def test_no_provider_api_key_password_or_signature_leaks(full_run: Capture) -> None:
    assert_no_leaks(full_run, PROVIDER_SECRET)


def test_no_provider_login_name_leaks(full_run: Capture) -> None:
    assert_no_leaks(full_run, PROVIDER_LOGIN)


def test_no_reseller_api_key_leaks(full_run: Capture) -> None:
    assert_no_leaks(full_run, RESELLER_KEY)


def test_no_callback_token_leaks_outside_the_operators_pages(full_run: Capture) -> None:
    assert_no_leaks(full_run, CALLBACK_TOKEN)


def test_no_django_key_leaks(full_run: Capture) -> None:
    assert_no_leaks(full_run, DJANGO_KEY)


def test_no_password_leaks(full_run: Capture) -> None:
    assert_no_leaks(full_run, PASSWORD)


def test_resellers_never_see_a_supplier(full_run: Capture) -> None:
    """No page, CSV, API reply, error message or forwarded report a reseller gets names a provider, its
    address or an upstream order id."""
    seen_by_resellers = [o for o in full_run.outputs if o.where.startswith("reseller ") or o.kind == "callback"]
    assert len(seen_by_resellers) >= 50 and len(full_run.suppliers) >= 10
    found = []
    for output in seen_by_resellers:
        for value, what in full_run.suppliers.items():
            if re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", output.text):
                found.append(f"{what} ({value!r}) in {output.kind} {output.where}")
    assert found == []


def test_the_scanner_catches_a_secret_the_configured_handler_prints() -> None:
    """The machinery above, on one planted secret: logged through the real configured handler, it is masked
    (the filter works and the scan is quiet); with the filter removed, the scan names it."""
    capture = Capture()
    secret = Secret("planted key", "PLANTED+key/0123456789=", PROVIDER_SECRET)
    url = f"https://upstream.example/json.php?api_key={quote_plus(secret.value)}&action=balance"
    log = logging.getLogger("providers.http")

    with production_logs(capture):
        log.warning("GET %s", url)
    masked = [o for o in capture.of_kind("log") if "upstream.example" in o.text]
    assert len(masked) == 1 and "WARNING providers.http: GET https://upstream.example/json.php?api_key=***&action" in (
        masked[0].text
    )
    assert find_leaks(capture.outputs, [secret]) == []

    console = next(h for h, names in configured_handlers().items() if "root" in names)
    mask = next(f for f in console.filters if isinstance(f, MaskSecretsFilter))
    console.removeFilter(mask)
    try:
        unmasked = Capture()
        with production_logs(unmasked, masked=False):
            log.warning("GET %s", url)
            log.warning("login %s", secret.value)  # raw, under a name no filter knows
    finally:
        console.addFilter(mask)
    leaks = find_leaks(unmasked.outputs, [secret])
    assert {leak.form for leak in leaks} == {"URL-encoded", "raw"}, [leak.describe() for leak in leaks]
    described = leaks[0].describe()
    assert "planted key" in described and "WARNING providers.http" in described and secret.value not in described
