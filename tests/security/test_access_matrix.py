"""The security matrix: every URL of the site in one table, classified once, and each class's protection
checked here.

It is complete by construction:

* `URLS` classifies every pattern that `django.urls.get_resolver()` reports (the admin include is one
  entry; the admin's views beyond the standard ModelAdmin and AdminSite ones are listed in
  `ADMIN_EXTRA_VIEWS`). test_every_url_is_classified names any URL added, renamed or moved without a
  decision about its class; the methods the table gives a URL are checked too (a GET-only URL answers a
  POST with 405, and the other way round).
* The downstream protocols' dispatch tables (`ACTIONS` / `TYPES` in orders/api/*.py) are enumerated the
  same way: every action either takes an order id and has a probe in `API_ID_PROBES`, or is listed in
  `API_ACTIONS_WITHOUT_IDS` with the reason.
* Every URL the table says accepts POST has a CSRF case (`post_cases`); every admin model's changelist
  actions, add, change and delete forms are swept from the admin registry.

The classes, and what is checked for each:

* owner-scoped by id: reseller A with B's ids (or ids that do not exist) gets a 404 on every method and
  action; nothing is written and nothing is asked upstream; B's same requests work.
* reseller page without ids: login required; A's pages and CSV downloads show none of B's orders,
  deposit requests, ledger entries or key.
* downstream API: csrf-exempt by design, as it authenticates by key (a browser session without the key
  is refused); A's key with B's ids gets the protocol's own not-found reply.
* provider callback: csrf-exempt by design; the provider's token in the path (a wrong one is a 404).
* sandbox: csrf-exempt by design; a 404 unless SANDBOX_ENABLED (or DEBUG); vendor keys, never sessions.
* admin: operators only (a reseller is sent to the admin login); every admin POST needs the CSRF token.
* public: login, logout, set_language, healthz, openapi; their POSTs need the CSRF token too.

Plus the login lockout (django-axes, shared by the admin login) and `check --deploy` in production.
Each refusal is paired with the same request succeeding for the right party, so a refusal for the wrong
reason (a broken URL, a bad payload) cannot pass for protection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiKey, DepositRequest, DepositStatus, LedgerEntry, User, Wallet
from accounts.services import apikey_rotate, deposit_request_create, wallet_credit
from orders.api import osimesa as osimesa_api
from orders.api import smm_v2 as smm_api
from orders.api import virtusim as virtusim_api
from orders.models import CallbackEvent, Order, OrderRecipient
from orders.views.web import ACTION_LABELS
from providers.models import Provider
from providers.sandbox.models import SandboxOrder
from tests.api.conftest import Api, Reseller
from tests.orders.fakes import FakeUpstream
from tests.panel import test_settings as settings_tests
from tests.reports.conftest import read_csv
from tests.web import conftest as web_conftest
from tests.web.conftest import WebShop, make_orders

pytestmark = pytest.mark.django_db

# Fixtures of the reseller-page tests, reused: the shop of every kind and the in-memory upstream.
upstream = web_conftest.upstream
web_shop = web_conftest.web_shop


# ================================================================================================
# The table
# ================================================================================================
class Cls(StrEnum):
    OWNER = "owner-scoped by id"
    RESELLER = "reseller page without ids"
    API = "downstream API (key auth, csrf-exempt by design)"
    CALLBACK = "provider callback (token auth, csrf-exempt by design)"
    SANDBOX = "sandbox (only when SANDBOX_ENABLED, csrf-exempt by design)"
    ADMIN = "admin (operators only)"
    PUBLIC = "public"
    PROTOCOL_404 = "any other path under a protocol's prefix (reads nothing, csrf-exempt by design)"


CSRF_EXEMPT_BY_DESIGN = {Cls.API, Cls.CALLBACK, Cls.SANDBOX, Cls.PROTOCOL_404}
GET = frozenset({"GET"})
POST = frozenset({"POST"})
GET_POST = frozenset({"GET", "POST"})
KINDS = tuple({"kind": kind} for kind in ("otp", "smm", "prepaid", "sms"))
ROUTE = ({"route": "reguler"},)
SMS_ROUTE = r"(?P<route>reguler|masking|otp)"


@dataclass(frozen=True)
class Url:
    route: str
    cls: Cls
    methods: frozenset[str]
    samples: tuple[dict[str, Any], ...] = ({},)  # kwargs to reverse it with; owner-scoped: `pk` is filled in
    query: dict[str, str] | None = None  # for a GET that needs one


URLS: dict[str, Url] = {
    # --- reseller pages: login required, scoped to request.user, no object ids in the URL
    "dashboard": Url("", Cls.RESELLER, GET),
    "password_change": Url("accounts/password/", Cls.RESELLER, GET_POST),
    "password_change_done": Url("accounts/password/done/", Cls.RESELLER, GET),
    "balance": Url("accounts/saldo/", Cls.RESELLER, GET),
    "deposit": Url("accounts/deposit/", Cls.RESELLER, GET_POST),
    "api_key": Url("accounts/api/", Cls.RESELLER, GET),
    "api_key_rotate": Url("accounts/api/kunci-baru/", Cls.RESELLER, POST),
    "api_key_ips": Url("accounts/api/ip/", Cls.RESELLER, POST),
    "api_masking_callback": Url("accounts/api/laporan-masking/", Cls.RESELLER, POST),
    "catalogue": Url("katalog/", Cls.RESELLER, GET),
    "order_start": Url("pesan/", Cls.RESELLER, GET),
    "order_new": Url("pesan/<str:kind>/", Cls.RESELLER, GET_POST, KINDS),
    "order_place": Url("pesan/<str:kind>/bayar/", Cls.RESELLER, POST, KINDS),
    "order_list": Url("pesanan/", Cls.RESELLER, GET),
    "order_price": Url("pesanan/harga/", Cls.RESELLER, GET_POST, query={"kind": "otp"}),
    "orders_csv": Url("pesanan/csv/", Cls.RESELLER, GET),
    "ledger_csv": Url("saldo/csv/", Cls.RESELLER, GET),
    # --- one of the reseller's orders by its id
    "order_detail": Url("pesanan/<int:pk>/", Cls.OWNER, GET),
    "order_status": Url("pesanan/<int:pk>/status/", Cls.OWNER, GET),
    "order_action": Url("pesanan/<int:pk>/aksi/", Cls.OWNER, POST),
    # --- public
    "login": Url("accounts/login/", Cls.PUBLIC, GET_POST),
    "logout": Url("accounts/logout/", Cls.PUBLIC, POST),
    "set_language": Url("i18n/setlang/", Cls.PUBLIC, GET_POST),
    "healthz": Url("healthz", Cls.PUBLIC, GET_POST),  # any method; reads nothing but `SELECT 1`
    "api:openapi": Url("api/openapi.json", Cls.PUBLIC, GET),
    # any other path under a protocol's prefix: a 404 in the protocol's form (csrf-exempt like the protocol's
    # own paths, so a mistyped client POST gets the protocol's answer, not a CSRF page)
    "api:rajasms_not_found": Url("sms/", Cls.PROTOCOL_404, GET_POST),
    "api:smm_v2_not_found": Url("api/v2/", Cls.PROTOCOL_404, GET_POST),
    "api:osimesa_not_found": Url("api/prepaid/", Cls.PROTOCOL_404, GET_POST),
    "api:masking_not_found": Url("api/masking/", Cls.PROTOCOL_404, GET_POST),
    "api:api_not_found": Url("api/", Cls.PROTOCOL_404, GET_POST),
    # --- machines
    "api:virtusim": Url("api/json.php", Cls.API, GET_POST),
    "api:smm_v2": Url("api/v2", Cls.API, POST),
    "api:osimesa": Url("api/prepaid", Cls.API, POST),
    "api:rajasms_send": Url(rf"sms/api_sms_{SMS_ROUTE}_send_json\.php", Cls.API, POST, ROUTE),
    "api:rajasms_balance": Url(rf"sms/api_sms_{SMS_ROUTE}_balance_json\.php", Cls.API, POST, ROUTE),
    "api:masking_send": Url("api/masking/send.php", Cls.API, GET_POST),
    "api:masking_send_post": Url("api/masking/send_post.php", Cls.API, GET_POST),
    "api:masking_report": Url("api/masking/report.php", Cls.API, GET_POST),
    "api:masking_balance": Url("api/masking/balance.php", Cls.API, GET_POST),
    "api:masking_reports_post": Url("api/masking/reports_post.php", Cls.API, GET_POST),
    "api:masking_inbox": Url("api/masking/inbox.php", Cls.API, GET_POST),
    "provider_callback": Url("callbacks/<int:provider_id>/<str:token>/", Cls.CALLBACK, GET_POST),
    "sandbox:virtusim": Url("sandbox/virtusim/json.php", Cls.SANDBOX, GET_POST),
    "sandbox:smm_v2": Url("sandbox/smm_v2/api", Cls.SANDBOX, GET_POST),
    "sandbox:rajasms_send": Url(rf"sandbox/rajasms/sms/api_sms_{SMS_ROUTE}_send_json\.php", Cls.SANDBOX, POST, ROUTE),
    "sandbox:rajasms_balance": Url(
        rf"sandbox/rajasms/sms/api_sms_{SMS_ROUTE}_balance_json\.php", Cls.SANDBOX, POST, ROUTE
    ),
    "sandbox:masking_send": Url("sandbox/masking_http/send.php", Cls.SANDBOX, GET_POST),
    "sandbox:masking_send_post": Url("sandbox/masking_http/send_post.php", Cls.SANDBOX, GET_POST),
    "sandbox:masking_report": Url("sandbox/masking_http/report.php", Cls.SANDBOX, GET_POST),
    "sandbox:masking_balance": Url("sandbox/masking_http/balance.php", Cls.SANDBOX, GET_POST),
    "sandbox:masking_reports_post": Url("sandbox/masking_http/reports_post.php", Cls.SANDBOX, GET_POST),
    "sandbox:masking_inbox": Url("sandbox/masking_http/inbox.php", Cls.SANDBOX, GET_POST),
    "sandbox:osimesa": Url("sandbox/osimesa/api/prepaid", Cls.SANDBOX, GET_POST),
    # --- the whole admin include, operators only (its extra views: ADMIN_EXTRA_VIEWS)
    "admin": Url("admin/", Cls.ADMIN, GET_POST),
}

# Admin views beyond the standard ModelAdmin/AdminSite ones (get_urls of the orders, providers and user admins,
# django-otp), all behind admin_view (staff) and a model permission: name -> (kwarg -> what fills it, POST?).
# Only the user admin's "set password" form takes POST (a CSRF case in admin_cases).
ADMIN_EXTRA_VIEWS: dict[str, tuple[dict[str, str], bool]] = {
    "reports_orders_csv": ({}, False),
    "reports_ledger_csv": ({}, False),
    "reports_profit_csv": ({}, False),
    "reports_profit": ({}, False),
    "reports_balances": ({}, False),
    "providers_provider_balances": ({}, False),
    "providers_inboxmessage_fetch": ({}, True),
    "otp_totp_totpdevice_config": ({"pk": "device"}, False),
    "otp_totp_totpdevice_qrcode": ({"pk": "device"}, False),
    "auth_user_password_change": ({"id": "reseller"}, True),
}
ADMIN_SITE_VIEWS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}
MODEL_ADMIN_VIEWS = ("changelist", "add", "history", "delete", "change")


# --- walking the resolver -------------------------------------------------------------------------
@dataclass(frozen=True)
class Pattern:
    namespace: str
    name: str  # "namespace:name", or the route for an unnamed pattern
    route: str
    pattern: URLPattern

    @property
    def key(self) -> str:
        """Its key in URLS: the admin include counts once."""
        return "admin" if self.namespace.split(":")[0] == "admin" else self.name


def _text(pattern: Any) -> str:
    return str(pattern).removeprefix("^").removesuffix("$")


def walk(patterns: list | None = None, prefix: str = "", namespace: str = "") -> Iterator[Pattern]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + _text(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from walk(entry.url_patterns, route, inner)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or route
            yield Pattern(namespace, name, route, entry)


def site_urls() -> dict[str, list[str]]:
    """URLS key -> the routes found under it (one per pattern; the admin include is collapsed)."""
    found: dict[str, list[str]] = {}
    for pattern in walk():
        route = "admin/" if pattern.key == "admin" else pattern.route
        if route not in found.get(pattern.key, []):
            found.setdefault(pattern.key, []).append(route)
    return found


def kwargs_of(pattern: URLPattern) -> dict[str, Any]:
    """name -> converter (route patterns) or None (regex groups)."""
    converters = getattr(pattern.pattern, "converters", None)
    if converters is not None:
        return dict(converters)
    return dict.fromkeys(pattern.pattern.regex.groupindex)


def path_of(name: str, kwargs: dict[str, Any]) -> str:
    return reverse(name, kwargs=kwargs or None)


# ================================================================================================
# The data: resellers A and B, each with orders of every kind in states where their actions work
# ================================================================================================
# make_orders(user, shop, 8) makes two orders of each kind (otp at 0 and 4, smm 1 and 5, prepaid 2 and 6,
# sms 3 and 7); each is then put where the actions on it would work for its owner.
SHAPES: dict[str, tuple[int, dict[str, Any]]] = {
    "otp_waiting": (0, {"status": "pending", "otp_code": ""}),  # cancel, set_status 1/2
    "otp_code": (4, {"status": "processing", "otp_code": "123456"}),  # resend, done, set_status 3/4
    "smm_active": (1, {"status": "processing"}),  # cancel, status
    "smm_done": (5, {"status": "completed", "refill_id": "R-77"}),  # refill, refill_status
    "prepaid_done": (2, {"status": "completed"}),
    "prepaid_active": (6, {"status": "pending"}),
    "sms_partial": (3, {"status": "partial"}),
    "sms_active": (7, {"status": "processing"}),
}
# What only B's data contains; none of it may show on A's pages.
B_ORDER_SECRETS: dict[str, dict[str, str]] = {
    "otp_waiting": {"target": "6287711100001"},
    "smm_active": {"target": "https://instagram.com/p/milik-b-satu"},
    "smm_done": {"target": "https://instagram.com/p/milik-b-dua"},
    "prepaid_done": {"target": "087711100002", "voucher": "VOUCHER-MILIK-B-9"},
    "sms_partial": {"message": "Pesan rahasia milik B"},
}
B_DEPOSIT_NOTE = "Transfer rahasia milik B"
B_LEDGER_REASON = "Bonus rahasia milik B"
NONEXISTENT = 10**12
OUT_OF_RANGE = 2**63  # beyond a bigint: must still be a 404, not a database error


@dataclass
class Party:
    reseller: Reseller  # the user and their plain API key
    orders: dict[str, Order]  # by SHAPES label
    deposit: DepositRequest

    @property
    def user(self) -> User:
        return self.reseller.user

    @property
    def password(self) -> str:
        return f"pw-{self.user.username}-Secret1"  # tests/conftest.py make_reseller


@dataclass
class World:
    shop: WebShop
    upstream: FakeUpstream
    a: Party
    b: Party

    @property
    def secrets(self) -> list[str]:
        texts = [value for fields in B_ORDER_SECRETS.values() for value in fields.values()]
        return [*texts, B_DEPOSIT_NOTE, B_LEDGER_REASON, self.b.reseller.key[:8]]


def _party(make_reseller: Callable[..., User], shop: WebShop, username: str, secret: bool) -> Party:
    user = make_reseller(username, deposit=1_000_000)
    made = make_orders(user, shop, 8, spread_days=0, charged=8)
    orders = {}
    for label, (index, fields) in SHAPES.items():
        extra = B_ORDER_SECRETS.get(label, {}) if secret else {}
        external = {"external_id": f"{username}-{index}"}  # make_orders numbers every reseller's alike
        Order.objects.filter(pk=made[index].pk).update(**fields, **external, **extra)
        orders[label] = Order.objects.get(pk=made[index].pk)
    note = B_DEPOSIT_NOTE if secret else f"Transfer {username}"
    deposit = deposit_request_create(user=user, amount=50_000, method="bank", note=note)
    wallet_credit(user=user, amount=1_000, reason=B_LEDGER_REASON if secret else f"Bonus {username}")
    return Party(Reseller(user, apikey_rotate(user)), orders, deposit)


@pytest.fixture
def world(make_reseller, web_shop, upstream, settings) -> World:
    settings.ADMIN_2FA = False  # the admin's second factor has its own tests (tests/panel/test_admin_2fa.py)
    settings.API_RATE_LIMIT = 10_000  # the probes below make a few hundred API calls
    a = _party(make_reseller, web_shop, "toko_a", secret=False)
    b = _party(make_reseller, web_shop, "saingan_b", secret=True)
    upstream.calls.clear()
    return World(web_shop, upstream, a, b)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """API rate-limit counters and refresh throttles live in the cache."""
    cache.clear()
    yield
    cache.clear()


# --- small helpers ----------------------------------------------------------------------------------
def logged_in(user: User, *, strict: bool = False) -> Client:
    client = Client(enforce_csrf_checks=strict)
    client.force_login(user)
    return client


def csrf_cookie(client: Client, page: str) -> str:
    """Open a page with a form, as a browser does, and return the CSRF cookie it set."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def body(response: HttpResponse) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8-sig")


def db_state() -> dict[str, Any]:
    """Row counts of every model plus the rows an attack would change: enough to say "nothing was written"."""
    state: dict[str, Any] = {model._meta.label: model._default_manager.count() for model in apps.get_models()}
    state["orders"] = list(
        Order.objects.order_by("pk").values_list("pk", "status", "refunded", "refill_id", "otp_code", "external_id")
    )
    state["wallets"] = list(Wallet.objects.order_by("pk").values_list("pk", "balance"))
    state["users"] = list(User.objects.order_by("pk").values_list("pk", "password", "is_active", "is_staff"))
    state["keys"] = list(ApiKey.objects.order_by("pk").values_list("pk", "key_hash"))
    state["deposits"] = list(DepositRequest.objects.order_by("pk").values_list("pk", "status"))
    state["providers"] = list(Provider.objects.order_by("pk").values_list("pk", "name", "enabled", "base_url"))
    return state


# ================================================================================================
# 1. The table covers every URL, once, with the right methods
# ================================================================================================
def test_every_url_is_classified():
    found = site_urls()
    unclassified = sorted(set(found) - set(URLS))
    assert not unclassified, f"URLs without a security class; add them to URLS: {unclassified}"
    gone = sorted(set(URLS) - set(found))
    assert not gone, f"URLS lists URLs the site no longer has: {gone}"
    twice = {name: routes for name, routes in found.items() if len(routes) > 1}
    assert not twice, f"one name, several patterns (classify each): {twice}"
    moved = {name: (URLS[name].route, routes[0]) for name, routes in found.items() if URLS[name].route != routes[0]}
    assert not moved, f"URLs whose route changed (table, site): {moved}"


def test_admin_extra_views_are_listed():
    standard = set(ADMIN_SITE_VIEWS)
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}"
        standard |= {f"{prefix}_{view}" for view in MODEL_ADMIN_VIEWS}
    names = {p.name.removeprefix("admin:") for p in walk() if p.namespace == "admin" and p.name.startswith("admin:")}
    assert names - standard == set(ADMIN_EXTRA_VIEWS), "admin views beyond the standard ones changed"


def test_urls_with_ids_are_owner_scoped_or_token_guarded():
    """An object id in a URL is where IDOR lives: such URLs must be owner-scoped (probed below with the other
    reseller's ids, kwarg `pk`) or the token-authenticated provider callback."""
    for pattern in walk():
        if pattern.key == "admin":
            continue
        kwargs = kwargs_of(pattern.pattern)
        ids = {
            name
            for name, converter in kwargs.items()
            if isinstance(converter, IntConverter) or re.fullmatch(r"pk|id|.*_id", name)
        }
        cls = URLS[pattern.key].cls
        if cls is Cls.OWNER:
            assert set(kwargs) == {"pk"}, f"{pattern.name}: the matrix fills only `pk` with order ids: {kwargs}"
        elif ids:
            assert cls is Cls.CALLBACK, f"{pattern.name} takes {ids} but is not owner-scoped"


def test_only_the_machine_endpoints_are_csrf_exempt():
    for pattern in walk():
        cls = URLS[pattern.key].cls
        exempt = getattr(pattern.pattern.callback, "csrf_exempt", False)
        assert exempt == (cls in CSRF_EXEMPT_BY_DESIGN), f"{pattern.name} ({cls}): csrf_exempt={exempt}"
        if cls is Cls.API:  # exempt because it authenticates by key (orders.api.common.api_endpoint)
            assert getattr(pattern.pattern.callback, "is_downstream_api", False), pattern.name


def _sample_paths(name: str, url: Url, own_order: int) -> list[str]:
    return [path_of(name, {**sample, "pk": own_order} if url.cls is Cls.OWNER else sample) for sample in url.samples]


def test_methods_are_the_tables(world):
    """A GET-only URL refuses POST (and the reverse), so the table says truly which URLs accept POST."""
    client = logged_in(world.a.user)
    own = world.a.orders["otp_waiting"].pk
    for name, url in URLS.items():
        if url.cls in (Cls.ADMIN, Cls.SANDBOX, Cls.CALLBACK) or url.methods == GET_POST:
            continue
        for path in _sample_paths(name, url, own):
            refused = client.get(path) if "GET" not in url.methods else client.post(path)
            assert refused.status_code == 405, (name, path, refused.status_code)


def test_reseller_urls_need_a_login(world):
    anonymous = Client()
    before = db_state()
    for name, url in URLS.items():
        if url.cls not in (Cls.RESELLER, Cls.OWNER):
            continue
        for path in _sample_paths(name, url, world.a.orders["otp_waiting"].pk):
            for method in sorted(url.methods):
                response = anonymous.get(path) if method == "GET" else anonymous.post(path, {"action": "cancel"})
                assert response.status_code == 302, (name, method, response.status_code)
                assert response["Location"].startswith(reverse("login")), (name, response["Location"])
    assert db_state() == before


# ================================================================================================
# 2. Reseller A with reseller B's ids
# ================================================================================================
def owner_requests(pk: int) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, data) of every owner-scoped URL for one order id: GET where the table allows it, POST
    with each action the order page offers, plus an empty and an unknown one."""
    requests = []
    for name, url in URLS.items():
        if url.cls is not Cls.OWNER:
            continue
        path = path_of(name, {"pk": pk})
        if "GET" in url.methods:
            requests.append(("GET", path, {}))
        if "POST" in url.methods:
            requests += [("POST", path, {"action": action}) for action in [*ACTION_LABELS, "", "hapus"]]
    return requests


def send(client: Client, method: str, path: str, data: dict[str, str]) -> HttpResponse:
    return client.get(path, data) if method == "GET" else client.post(path, data)


def test_owner_scoped_urls_are_404_with_another_resellers_ids(world):
    client = logged_in(world.a.user)
    before = db_state()
    for pk in [order.pk for order in world.b.orders.values()] + [NONEXISTENT, OUT_OF_RANGE]:
        for method, path, data in owner_requests(pk):
            response = send(client, method, path, data)
            assert response.status_code == 404, (method, path, data, response.status_code)
    assert db_state() == before
    assert world.upstream.calls == []  # not even a status poll for B's orders

    # The owner's same requests find the orders and act (so the 404s came from the ownership check).
    owner = logged_in(world.b.user)
    for order in world.b.orders.values():
        for method, path, data in owner_requests(order.pk):
            response = send(owner, method, path, data)
            if method == "GET":
                assert response.status_code == 200, (path, response.status_code)
            else:  # acted (or explained why not) and went back to the order's page
                assert response.status_code == 302 and response["Location"] == reverse("order_detail", args=[order.pk])
    for action in ACTION_LABELS:  # each one reached the upstream for some order of B's
        assert world.upstream.count(action) >= 1, action


def reseller_pages(client: Client) -> dict[str, str]:
    """Every GET page of the reseller class, each sample, as text (CSV downloads included)."""
    pages = {}
    for name, url in URLS.items():
        if url.cls is Cls.RESELLER and "GET" in url.methods:
            for sample in url.samples:
                path = path_of(name, sample)
                response = client.get(path, url.query)
                assert response.status_code == 200, (path, response.status_code)
                pages[path] = body(response)
    return pages


def own_order_pages(client: Client, party: Party) -> dict[str, str]:
    pages = {}
    for order in party.orders.values():
        for method, path, data in owner_requests(order.pk):
            if method == "GET":
                response = send(client, method, path, data)
                assert response.status_code == 200, (path, response.status_code)
                pages[path] = body(response)
    return pages


def test_reseller_pages_show_none_of_another_resellers_data(world):
    mine = {**reseller_pages(logged_in(world.a.user)), **own_order_pages(logged_in(world.a.user), world.a)}
    for path, text in mine.items():
        leaked = [secret for secret in world.secrets if secret in text]
        assert not leaked, f"{path} shows B's {leaked}"
    # Each secret is on some page of B's own, so its absence from A's pages means something.
    theirs = "\n".join(
        {**reseller_pages(logged_in(world.b.user)), **own_order_pages(logged_in(world.b.user), world.b)}.values()
    )
    assert [secret for secret in world.secrets if secret not in theirs] == []


def test_csv_downloads_hold_only_own_rows(world):
    client = logged_in(world.a.user)
    b_orders = set(Order.objects.filter(user=world.b.user).values_list("pk", flat=True))
    rows = read_csv(client.get(reverse("orders_csv")))[1:]
    assert {int(row[0]) for row in rows} == set(Order.objects.filter(user=world.a.user).values_list("pk", flat=True))
    assert not {int(row[0]) for row in rows} & b_orders
    entries = read_csv(client.get(reverse("ledger_csv")))[1:]
    own_entries = set(LedgerEntry.objects.filter(wallet__user=world.a.user).values_list("pk", flat=True))
    assert {int(row[0]) for row in entries} == own_entries
    assert not {int(row[5]) for row in entries if row[5]} & b_orders  # the "Order ID" column
    assert LedgerEntry.objects.filter(wallet__user=world.b.user).count() > 0


# --- the downstream API -----------------------------------------------------------------------------
Send = Callable[[Api, Reseller, list[int]], HttpResponse]
Expect = Callable[[list[int]], tuple[int, Any]]

VS_NOT_FOUND = {"status": False, "data": {"msg": "Pesanan tidak ditemukan"}}
VS_SET_STATUS_NOT_FOUND = {
    "status": False,
    "msg": "Pesanan tidak ditemukan",
    "data": {"msg": "Pesanan tidak ditemukan"},
}
SMM_NO_ORDER = {"error": "Incorrect order ID"}
SMM_NO_REFILL = {"error": "Incorrect refill ID"}
OSIMESA_NOT_FOUND = {"code": 404, "status": False, "message": "Transaction not found.", "data": None}


@dataclass(frozen=True)
class Probe:
    endpoint: str  # URL name of the protocol
    action: str
    send: Send
    not_found: Expect  # (HTTP status, JSON) for ids the caller does not own
    own: str  # SHAPES label of the owner's order the action works on
    multi: bool = False  # takes a list of ids


def _virtusim(action: str, **extra: str) -> Send:
    return lambda api, who, ids: api.virtusim(who.key, "post", action=action, id=str(ids[0]), **extra)


def _smm(action: str, param: str) -> Send:
    def call(api: Api, who: Reseller, ids: list[int]) -> HttpResponse:
        value = ",".join(map(str, ids)) if param.endswith("s") else str(ids[0])
        return api.smm(who.key, action=action, **{param: value})

    return call


def _osimesa_status(api: Api, who: Reseller, ids: list[int]) -> HttpResponse:
    return api.osimesa(who, type="status", ref_id=str(ids[0]))


def _masking_report(api: Api, who: Reseller, ids: list[int]) -> HttpResponse:
    """report.php takes a report id (an SMS recipient's id): the order's first SMS, or an id nobody has."""
    recipient = OrderRecipient.objects.filter(order_id=ids[0]).order_by("pk").first()
    return api.masking("report", who, rpt=str(recipient.pk if recipient else NONEXISTENT))


def reply_of(response: HttpResponse) -> Any:
    """The reply as the protocol gives it: JSON, or the masking gateway's plain text."""
    if response["Content-Type"].startswith("text/plain"):
        return response.content.decode()
    return response.json()


API_ID_PROBES: list[Probe] = [
    Probe("api:virtusim", "status", _virtusim("status"), lambda ids: (200, VS_NOT_FOUND), "otp_waiting"),
    *(
        Probe(
            "api:virtusim",
            "set_status",
            _virtusim("set_status", status=code),
            lambda ids: (200, VS_SET_STATUS_NOT_FOUND),
            "otp_waiting" if code in ("1", "2") else "otp_code",
        )
        for code in virtusim_api.SET_STATUS
    ),
    Probe("api:smm_v2", "status", _smm("status", "order"), lambda ids: (200, SMM_NO_ORDER), "smm_active"),
    Probe(
        "api:smm_v2",
        "status",
        _smm("status", "orders"),
        lambda ids: (200, {str(i): SMM_NO_ORDER for i in ids}),
        "smm_active",
        multi=True,
    ),
    Probe("api:smm_v2", "refill", _smm("refill", "order"), lambda ids: (200, SMM_NO_ORDER), "smm_done"),
    Probe(
        "api:smm_v2",
        "refill",
        _smm("refill", "orders"),
        lambda ids: (200, [{"order": i, "refill": SMM_NO_ORDER} for i in ids]),
        "smm_done",
        multi=True,
    ),
    Probe("api:smm_v2", "refill_status", _smm("refill_status", "refill"), lambda ids: (200, SMM_NO_REFILL), "smm_done"),
    Probe(
        "api:smm_v2",
        "refill_status",
        _smm("refill_status", "refills"),
        lambda ids: (200, [{"refill": i, "status": SMM_NO_REFILL} for i in ids]),
        "smm_done",
        multi=True,
    ),
    Probe(
        "api:smm_v2",
        "cancel",
        _smm("cancel", "order"),
        lambda ids: (200, [{"order": ids[0], "cancel": SMM_NO_ORDER}]),
        "smm_active",
    ),
    Probe(
        "api:smm_v2",
        "cancel",
        _smm("cancel", "orders"),
        lambda ids: (200, [{"order": i, "cancel": SMM_NO_ORDER} for i in ids]),
        "smm_active",
        multi=True,
    ),
    Probe("api:osimesa", "status", _osimesa_status, lambda ids: (404, OSIMESA_NOT_FOUND), "prepaid_active"),
    Probe("api:masking_report", "report", _masking_report, lambda ids: (200, "Data tidak ditemukan"), "sms_active"),
]
API_ACTIONS_WITHOUT_IDS: dict[tuple[str, str], str] = {
    ("api:virtusim", "services"): "the catalogue (service ids are the same for every reseller)",
    ("api:virtusim", "order"): "places a new order from a service id",
    ("api:virtusim", "active_order"): "lists the caller's own active orders (test_api_lists_show_only_own_orders)",
    ("api:smm_v2", "services"): "the catalogue",
    ("api:smm_v2", "add"): "places a new order from a service id",
    ("api:smm_v2", "balance"): "the caller's own balance",
    ("api:osimesa", "service"): "the catalogue",
    ("api:osimesa", "order"): "places a new order from a service code",
    ("api:rajasms_send", "send"): "places new SMS orders (sendingids only go out, in replies and callbacks)",
    ("api:rajasms_balance", "balance"): "the caller's own balance",
    ("api:masking_send", "send"): "places a new SMS order (report ids only go out, in replies and callbacks)",
    ("api:masking_send_post", "send"): "places a new SMS order",
    ("api:masking_balance", "balance"): "the caller's own balance",
    ("api:masking_reports_post", "reports"): "lists the caller's own SMS (test_api_lists_show_only_own_orders)",
    ("api:masking_inbox", "inbox"): "always empty: the panel has no incoming SMS for resellers",
}
# Each endpoint's dispatch table (RajaSMS has one action per URL).
API_ACTIONS: dict[str, set[str]] = {
    "api:virtusim": set(virtusim_api.ACTIONS),
    "api:smm_v2": set(smm_api.ACTIONS),
    "api:osimesa": set(osimesa_api.TYPES),
    "api:rajasms_send": {"send"},
    "api:rajasms_balance": {"balance"},
    # the masking gateway has one action per file, too
    "api:masking_send": {"send"},
    "api:masking_send_post": {"send"},
    "api:masking_report": {"report"},
    "api:masking_balance": {"balance"},
    "api:masking_reports_post": {"reports"},
    "api:masking_inbox": {"inbox"},
}


def test_every_api_action_is_probed_or_takes_no_ids():
    assert set(API_ACTIONS) == {name for name, url in URLS.items() if url.cls is Cls.API}
    actions = {(endpoint, action) for endpoint, names in API_ACTIONS.items() for action in names}
    probed = {(probe.endpoint, probe.action) for probe in API_ID_PROBES}
    assert not probed & set(API_ACTIONS_WITHOUT_IDS)
    assert actions - probed - set(API_ACTIONS_WITHOUT_IDS) == set(), "new API actions: probe them or list them"
    assert (probed | set(API_ACTIONS_WITHOUT_IDS)) - actions == set(), "actions that no longer exist"


def test_api_with_another_resellers_ids_gets_the_protocols_not_found(world):
    api = Api(Client())
    foreign = [order.pk for order in world.b.orders.values()] + [NONEXISTENT]
    before = db_state()
    for probe in API_ID_PROBES:
        for ids in [foreign] if probe.multi else [[pk] for pk in foreign]:
            response = probe.send(api, world.a.reseller, ids)
            assert (response.status_code, reply_of(response)) == probe.not_found(ids), (
                probe.endpoint,
                probe.action,
                ids,
            )
    assert db_state() == before
    assert world.upstream.calls == []

    # B's key finds the same orders (so the replies above came from the ownership check).
    for probe in API_ID_PROBES:
        ids = [world.b.orders[probe.own].pk]
        response = probe.send(api, world.b.reseller, ids)
        assert (response.status_code, reply_of(response)) != probe.not_found(ids), (probe.endpoint, probe.action)


def test_api_lists_show_only_own_orders(world):
    api = Api(Client())
    for party in (world.a, world.b):
        own = {str(order.pk) for order in party.orders.values()}
        active = {row["id"] for row in api.virtusim(party.reseller.key, action="active_order").json()["data"]}
        assert active and active <= own, (party.user.username, active)
        latest = {row["ref_id"] for row in api.osimesa(party.reseller, type="status").json()["data"]}
        assert latest and latest <= own, (party.user.username, latest)
        own_sms = {str(pk) for pk in OrderRecipient.objects.filter(order__user=party.user).values_list("pk", flat=True)}
        day = timezone.localdate().strftime("%d-%m-%Y")
        rows = read_csv(api.masking("reports_post", party.reseller, "post", start=day, end=day))[1:]
        assert rows and {row[0] for row in rows} == own_sms, (party.user.username, rows)


# A request per endpoint that acts for the key's owner, and the protocol's reply when the key is missing.
Keyless = Callable[[Api, WebShop, Reseller | None], HttpResponse]


def _raja(route_action: str, payload: dict[str, Any]) -> Keyless:
    def call(api: Api, shop: WebShop, who: Reseller | None) -> HttpResponse:
        return api.raja("reguler", {**payload, **({"apikey": who.key} if who else {})}, action=route_action)

    return call


MASKING_CALLS: dict[str, dict[str, str]] = {
    "send": {"hp": "081234567890", "message": "Halo"},
    "send_post": {"hp": "081234567890", "message": "Halo"},
    "report": {"rpt": str(NONEXISTENT)},
    "balance": {},
    "reports_post": {"start": "01-01-2026", "end": "02-01-2026"},
    "inbox": {},
}


def _masking(script: str, params: dict[str, str]) -> Keyless:
    def call(api: Api, shop: WebShop, who: Reseller | None) -> HttpResponse:
        return api.masking(script, who, "post", **params)

    return call


KEYLESS: dict[str, tuple[Keyless, tuple[int, Any]]] = {
    "api:virtusim": (
        lambda api, shop, who: api.virtusim(who.key if who else None, "post", action="order", service=shop.otp.pk),
        (200, {"status": False, "data": {"msg": "API Key salah"}}),
    ),
    "api:smm_v2": (
        lambda api, shop, who: api.smm(
            who.key if who else None, action="add", service=shop.smm.pk, link="https://instagram.com/p/x", quantity=100
        ),
        (200, {"error": "Invalid API key"}),
    ),
    "api:osimesa": (
        lambda api, shop, who: api.osimesa(who, type="order", service=shop.prepaid.pk, data_no="081234567890"),
        (401, {"code": 401, "status": False, "message": "Invalid API key or signature.", "data": None}),
    ),
    "api:rajasms_send": (
        _raja("send", {"datapacket": [{"number": "081234567890", "message": "Halo"}]}),
        (200, {"sending_respon": [{"globalstatus": 30, "globalstatustext": "ApiKey not register"}]}),
    ),
    "api:rajasms_balance": (
        _raja("balance", {}),
        (200, {"balance_respon": [{"globalstatus": 30, "globalstatustext": "ApiKey not register"}]}),
    ),
    **{
        f"api:masking_{script}": (_masking(script, params), (200, "Username atau Password salah"))
        for script, params in MASKING_CALLS.items()
    },
}


def test_api_is_csrf_exempt_only_because_a_session_is_worth_nothing_there(world):
    """A logged-in reseller's browser session (what a cross-site POST would ride on) cannot act through the
    API: without the key every protocol refuses. With the key the same requests act, with no CSRF token."""
    assert set(KEYLESS) == {name for name, url in URLS.items() if url.cls is Cls.API}
    api = Api(logged_in(world.a.user, strict=True))
    before = db_state()
    for endpoint, (call, refusal) in KEYLESS.items():
        response = call(api, world.shop, None)
        assert (response.status_code, reply_of(response)) == refusal, endpoint
    assert db_state() == before
    for endpoint, (call, refusal) in KEYLESS.items():
        response = call(api, world.shop, world.a.reseller)
        shown = b"".join(response.streaming_content).decode() if response.streaming else reply_of(response)
        assert response.status_code == 200 and shown != refusal[1], (endpoint, shown)
    # otp, smm, prepaid, RajaSMS sms, and two masking sends (send.php, send_post.php)
    assert Order.objects.filter(user=world.a.user, source="api").count() == 6


# ================================================================================================
# 3. CSRF: every POST form refuses a request without the token
# ================================================================================================
@dataclass
class PostCase:
    name: str  # URLS key
    who: str  # "anonymous", "reseller" or "operator"
    path: str
    data: dict[str, Any]
    done: Callable[[Client, HttpResponse], bool]  # did the request act?
    form_page: str = ""  # where the client picks up its CSRF cookie
    prepare: Callable[[Client, str], dict[str, Any]] | None = None  # extra data from legitimate earlier steps


def _confirmation(shop: WebShop) -> Callable[[Client, str], dict[str, Any]]:
    """The order form's confirmation token (spent by order_place), fetched legitimately with the CSRF token."""

    def prepare(client: Client, csrf: str) -> dict[str, Any]:
        page = client.post(
            reverse("order_new", args=["otp"]), {"service": shop.otp.pk, "operator": "any", "csrfmiddlewaretoken": csrf}
        )
        match = re.search(r'name="token" value="([^"]+)"', page.content.decode())
        assert match, "no confirmation page"
        return {"token": match.group(1)}

    return prepare


def _logged_in_as(client: Client) -> bool:
    return "_auth_user_id" in client.session


def post_cases(world: World) -> list[PostCase]:
    a, shop = world.a, world.shop
    own = a.orders["otp_waiting"]
    new_password = {"old_password": a.password, "new_password1": "Baru-sekali-77", "new_password2": "Baru-sekali-77"}
    old_prefix = a.reseller.key[:8]
    return [
        PostCase(
            "login",
            "anonymous",
            reverse("login"),
            {"username": a.user.username, "password": a.password},
            lambda client, response: _logged_in_as(client),
        ),
        PostCase("logout", "reseller", reverse("logout"), {}, lambda client, response: not _logged_in_as(client)),
        PostCase(
            "set_language",
            "anonymous",
            reverse("set_language"),
            {"language": "en", "next": "/"},
            lambda client, response: settings.LANGUAGE_COOKIE_NAME in response.cookies,
        ),
        PostCase("healthz", "anonymous", reverse("healthz"), {}, lambda client, response: response.status_code == 200),
        PostCase(
            "password_change",
            "reseller",
            reverse("password_change"),
            new_password,
            lambda client, response: User.objects.get(pk=a.user.pk).check_password("Baru-sekali-77"),
        ),
        PostCase(
            "deposit",
            "reseller",
            reverse("deposit"),
            {"amount": "75000", "method": "qris", "note": "lewat csrf"},
            lambda client, response: DepositRequest.objects.filter(note="lewat csrf").exists(),
        ),
        PostCase(
            "api_key_rotate",
            "reseller",
            reverse("api_key_rotate"),
            {},
            lambda client, response: ApiKey.objects.get(user=a.user).prefix != old_prefix,
        ),
        PostCase(
            "api_key_ips",
            "reseller",
            reverse("api_key_ips"),
            {"allowed_ips": "0.0.0.0/0, ::/0"},
            lambda client, response: ApiKey.objects.get(user=a.user).allowed_ips == "0.0.0.0/0\n::/0",
        ),
        PostCase(
            "api_masking_callback",
            "reseller",
            reverse("api_masking_callback"),
            {"url": "https://toko-a.example/delivreq.php"},
            lambda client, response: (
                ApiKey.objects.get(user=a.user).masking_callback_url == "https://toko-a.example/delivreq.php"
            ),
        ),
        PostCase(
            "order_new",
            "reseller",
            reverse("order_new", args=["otp"]),
            {"service": shop.otp.pk, "operator": "any"},
            lambda client, response: b'name="token"' in response.content,
        ),
        PostCase(
            "order_place",
            "reseller",
            reverse("order_place", args=["otp"]),
            {"service": shop.otp.pk, "operator": "any"},
            lambda client, response: Order.objects.filter(user=a.user, source="web").count() == len(a.orders) + 1,
            prepare=_confirmation(shop),
        ),
        PostCase(
            "order_price",
            "reseller",
            reverse("order_price"),
            {"kind": "otp", "service": shop.otp.pk},
            lambda client, response: (
                response["Content-Type"] == "application/json" and response.json()["charge"].startswith("Rp ")
            ),
        ),
        PostCase(
            "order_action",
            "reseller",
            reverse("order_action", args=[own.pk]),
            {"action": "cancel"},
            lambda client, response: world.upstream.count("cancel") == 1,
        ),
    ]


def run_post_case(case: PostCase, users: dict[str, User]) -> None:
    client = Client(enforce_csrf_checks=True)
    if case.who != "anonymous":  # fresh from the database: an earlier case may have changed the password
        client.force_login(User.objects.get(pk=users[case.who].pk))
    page = case.form_page or {"anonymous": reverse("login"), "reseller": reverse("deposit")}.get(case.who, "")
    csrf = csrf_cookie(client, page or reverse("admin:index"))
    data = {**case.data, **(case.prepare(client, csrf) if case.prepare else {})}
    before = db_state()
    refused = client.post(case.path, data)  # the cookie is there, as in a cross-site POST; the token is not
    assert refused.status_code == 403, (case.name, case.path, refused.status_code)
    assert db_state() == before, case.name
    assert not case.done(client, refused), case.name
    accepted = client.post(case.path, {**data, "csrfmiddlewaretoken": csrf})
    assert accepted.status_code != 403 and case.done(client, accepted), (case.name, accepted.status_code)


def test_every_post_url_refuses_a_missing_csrf_token(world):
    cases = post_cases(world)
    posting = {name for name, url in URLS.items() if "POST" in url.methods}
    expected = posting - {name for name in posting if URLS[name].cls in CSRF_EXEMPT_BY_DESIGN | {Cls.ADMIN}}
    assert {case.name for case in cases} == expected, "every POST URL needs a CSRF case"
    for case in cases:
        run_post_case(case, {"reseller": world.a.user})


# --- the admin ------------------------------------------------------------------------------------
def admin_cases(world: World, operator: User) -> list[PostCase]:
    a = world.a
    unknown = a.orders["prepaid_active"]
    Order.objects.filter(pk=unknown.pk).update(status="unknown")
    provider = world.shop.otp.provider
    changelist = {
        name: reverse(f"admin:{name}_changelist")
        for name in ("orders_order", "accounts_depositrequest", "accounts_user")
    }
    b_deposit = world.b.deposit
    return [
        PostCase(
            "admin:login",
            "anonymous",
            reverse("admin:login"),
            {"username": operator.username, "password": "ops-Secret-123", "next": reverse("admin:index")},
            lambda client, response: _logged_in_as(client),
            form_page=reverse("admin:login"),
        ),
        PostCase("admin:logout", "operator", reverse("admin:logout"), {}, lambda c, r: not _logged_in_as(c)),
        PostCase(
            "admin:password_change",
            "operator",
            reverse("admin:password_change"),
            {"old_password": "ops-Secret-123", "new_password1": "Neu-Rahasia-88", "new_password2": "Neu-Rahasia-88"},
            lambda client, response: User.objects.get(pk=operator.pk).check_password("Neu-Rahasia-88"),
        ),
        PostCase(
            "admin:auth_user_password_change",
            "operator",
            reverse("admin:auth_user_password_change", args=[world.b.user.pk]),
            {"password1": "Setel-Ulang-55", "password2": "Setel-Ulang-55", "usable_password": "true"},
            lambda client, response: User.objects.get(pk=world.b.user.pk).check_password("Setel-Ulang-55"),
        ),
        PostCase(
            "admin:orders_order_changelist (resolve_failed)",
            "operator",
            changelist["orders_order"],
            {"action": "resolve_failed", "_selected_action": [unknown.pk]},
            lambda client, response: Order.objects.get(pk=unknown.pk).status == "failed",
        ),
        PostCase(
            "admin:providers_provider_change",
            "operator",
            reverse("admin:providers_provider_change", args=[provider.pk]),
            {
                "name": "OTP baru",
                "kind": provider.kind,
                "base_url": provider.base_url,
                "enabled": "on",
                "options": "{}",
                "low_balance_threshold": "0",
            },
            lambda client, response: Provider.objects.get(pk=provider.pk).name == "OTP baru",
        ),
        PostCase(  # no provider of this world has an inbox: the accepted POST fetches nothing and redirects
            "admin:providers_inboxmessage_fetch",
            "operator",
            reverse("admin:providers_inboxmessage_fetch"),
            {},
            lambda client, response: response.status_code == 302,
        ),
        PostCase(
            "admin:accounts_depositrequest_changelist (approve)",
            "operator",
            changelist["accounts_depositrequest"],
            {"action": "approve", "_selected_action": [a.deposit.pk]},
            lambda c, r: DepositRequest.objects.get(pk=a.deposit.pk).status == DepositStatus.APPROVED,
        ),
        PostCase(
            "admin:accounts_depositrequest_changelist (reject)",
            "operator",
            changelist["accounts_depositrequest"],
            {"action": "reject", "_selected_action": [b_deposit.pk], "apply": "1", "decision_note": "tidak masuk"},
            lambda c, r: DepositRequest.objects.get(pk=b_deposit.pk).status == DepositStatus.REJECTED,
        ),
        PostCase(
            "admin:accounts_user_changelist (adjust_balance)",
            "operator",
            changelist["accounts_user"],
            {
                "action": "adjust_balance",
                "_selected_action": [a.user.pk],
                "apply": "1",
                "amount": "1000",
                "reason": "uji",
            },
            lambda c, r: LedgerEntry.objects.filter(reason="uji").exists(),
        ),
    ]


def admin_model_posts(operator: User) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every registered ModelAdmin: each changelist action, the add form, and an object's change and delete."""
    request = RequestFactory().get(reverse("admin:index"))
    request.user = operator
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        obj = model._default_manager.order_by("pk").first()
        selected = [str(obj.pk) if obj else "1"]
        for action in model_admin.get_actions(request):
            yield reverse(f"{prefix}_changelist"), {"action": action, "_selected_action": selected, "index": "0"}
        yield reverse(f"{prefix}_add"), {}
        if obj is not None:
            yield reverse(f"{prefix}_change", args=[obj.pk]), {}
            yield reverse(f"{prefix}_delete", args=[obj.pk]), {"post": "yes"}


def test_every_admin_post_refuses_a_missing_csrf_token(world, operator):
    client = logged_in(operator, strict=True)
    csrf_cookie(client, reverse("admin:index"))
    TOTPDevice.objects.create(user=operator, name="ponsel")
    before = db_state()
    posts = list(admin_model_posts(operator))
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code == 403, (path, data, response.status_code)
    assert db_state() == before
    assert len(posts) > 3 * len(admin.site._registry)
    cases = admin_cases(world, operator)
    posting_extras = {f"admin:{name}" for name, (_kwargs, post) in ADMIN_EXTRA_VIEWS.items() if post}
    assert posting_extras <= {case.name for case in cases}, "an admin view beyond the standard ones takes POST"
    for case in cases:  # each refused without the token; with it, each acts
        run_post_case(case, {"operator": operator})


def admin_sample_paths(world: World, device: TOTPDevice) -> list[str]:
    paths = [reverse("admin:index")]
    for model in admin.site._registry:
        paths.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    order = world.b.orders["smm_active"]
    entry = LedgerEntry.objects.filter(wallet__user=world.b.user).first()
    paths += [
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:accounts_ledgerentry_change", args=[entry.pk]),
        reverse("admin:providers_provider_change", args=[order.provider_id]),
        reverse("admin:accounts_user_change", args=[world.b.user.pk]),
    ]
    objects = {"device": device.pk, "reseller": world.b.user.pk}
    for name, (kwargs, _post) in ADMIN_EXTRA_VIEWS.items():
        paths.append(reverse(f"admin:{name}", kwargs={k: objects[v] for k, v in kwargs.items()} or None))
    return paths


def test_the_admin_is_for_operators_only(world, operator):
    device = TOTPDevice.objects.create(user=operator, name="ponsel")
    paths = admin_sample_paths(world, device)
    login = reverse("admin:login")
    for who in (Client(), logged_in(world.a.user)):  # anonymous, and a logged-in reseller
        for path in paths:
            response = who.get(path)
            assert response.status_code == 302 and response["Location"].startswith(login), (path, response.status_code)
    # an admin action posted by a reseller (CSRF token and all) does nothing either
    unknown = world.a.orders["prepaid_active"]
    Order.objects.filter(pk=unknown.pk).update(status="unknown")
    reseller = logged_in(world.a.user)
    before = db_state()
    response = reseller.post(
        reverse("admin:orders_order_changelist"), {"action": "resolve_failed", "_selected_action": [unknown.pk]}
    )
    assert response.status_code == 302 and response["Location"].startswith(login)
    assert db_state() == before
    # the operator opens every one of them (the redirects above are not broken URLs)
    ops = logged_in(operator)
    for path in paths:
        assert ops.get(path).status_code == 200, path


# ================================================================================================
# 4. Machine endpoints: callbacks and the sandbox
# ================================================================================================
def test_provider_callbacks_need_the_providers_token(world):
    provider = world.shop.sms_routes["reguler"].provider
    client = logged_in(world.a.user, strict=True)  # a session is worth nothing here either
    token = provider.callback_token
    wrong = [
        (provider.pk, "x" * len(token)),
        (provider.pk, token[:-1] + ("a" if token[-1] != "a" else "b")),
        (NONEXISTENT, token),
        (world.shop.otp.provider_id, token),  # another provider's path with this one's token
    ]
    report = json.dumps({"sendingid": 1, "number": "6281234567890", "deliverystatus": 3})
    before = db_state()
    for provider_id, attempt in wrong:
        path = reverse("provider_callback", args=[provider_id, attempt])
        assert client.get(path).status_code == 404, path
        assert client.post(path, report, content_type="application/json").status_code == 404, path
    assert db_state() == before and CallbackEvent.objects.count() == 0
    right = reverse("provider_callback", args=[provider.pk, token])
    response = client.post(right, report, content_type="application/json")
    assert response.status_code not in (403, 404)  # the token is the authentication, no CSRF token needed


# The vendor's refusal of a request without its key (the sandbox speaks each vendor's protocol).
SANDBOX_REFUSALS = {
    "sandbox:virtusim": "API Key salah",
    "sandbox:smm_v2": "Invalid API key",
    "sandbox:osimesa": "Invalid API key or signature.",
    "sandbox:rajasms_send": "ApiKey not register",
    "sandbox:rajasms_balance": "ApiKey not register",
    "sandbox:masking_send": "Username atau Password salah",
    "sandbox:masking_send_post": "Username atau Password salah",
    "sandbox:masking_report": "Data tidak ditemukan",
    "sandbox:masking_balance": "Username atau Password salah",
    "sandbox:masking_reports_post": "Username atau Password salah",
    "sandbox:masking_inbox": "Username atau Password salah",
}


def _sandbox_post(client: Client, name: str, path: str) -> HttpResponse:
    if "rajasms" in name:
        payload = {"datapacket": [{"number": "081234567890", "message": "Halo"}]}
        return client.post(path, json.dumps(payload), content_type="application/json")
    return client.post(path, {"action": "order", "service": "1", "hp": "6281234567890", "message": "Halo"})


def test_the_sandbox_is_off_unless_enabled_and_takes_vendor_keys_not_sessions(world, settings):
    sandbox = {name: url for name, url in URLS.items() if url.cls is Cls.SANDBOX}
    assert set(sandbox) == set(SANDBOX_REFUSALS)
    client = logged_in(world.a.user, strict=True)
    settings.SANDBOX_ENABLED, settings.DEBUG = False, False
    for name, url in sandbox.items():
        path = path_of(name, url.samples[0])
        assert client.get(path).status_code == 404, name
        assert _sandbox_post(client, name, path).status_code == 404, name
    settings.SANDBOX_ENABLED = True
    for name, url in sandbox.items():
        response = _sandbox_post(client, name, path_of(name, url.samples[0]))
        assert response.status_code in (200, 401) and SANDBOX_REFUSALS[name] in body(response), (name, body(response))
    assert not SandboxOrder.objects.exists()


# ================================================================================================
# 5. Login lockout and the production settings
# ================================================================================================
def test_login_locks_out_after_five_failures_even_with_the_right_password(make_reseller, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    user = make_reseller("kunci", deposit=10_000)
    password = f"pw-{user.username}-Secret1"
    client = Client()
    url = reverse("login")
    for attempt in range(1, 6):
        response = client.post(url, {"username": "kunci", "password": f"salah-{attempt}"})
        assert response.status_code == (429 if attempt == 5 else 200), attempt
    locked = client.post(url, {"username": "kunci", "password": password})
    assert locked.status_code == 429 and "Terlalu banyak" in body(locked)  # the Indonesian lockout page
    assert not _logged_in_as(client)
    # the lock is on this username from this address: the owner elsewhere still gets in
    elsewhere = Client(REMOTE_ADDR="10.20.30.40")
    assert elsewhere.post(url, {"username": "kunci", "password": password}).status_code == 302


def test_the_admin_login_shares_the_lockout(operator, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(reverse("login"), {"username": "ops", "password": "salah"}).status_code == 200
    last = client.post(reverse("admin:login"), {"username": "ops", "password": "salah"})
    assert last.status_code == 429  # failures on both login pages count together
    for url in (reverse("admin:login"), reverse("login")):
        response = client.post(url, {"username": "ops", "password": "ops-Secret-123"})
        assert response.status_code == 429, url
    assert not _logged_in_as(client)


def test_production_settings_pass_check_deploy_with_zero_warnings():
    settings_tests.test_production_check_deploy_has_zero_warnings()  # `manage.py check --deploy` in a subprocess
