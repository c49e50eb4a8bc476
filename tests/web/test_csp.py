"""Content-Security-Policy without a browser: the header is on reseller, login and admin pages and allows no
inline code, and no template of ours holds an inline script, an inline style or an event-handler
attribute (each would be refused by the browser under that policy; tests/e2e/test_csp.py checks what
Chromium actually reports)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Inside a tag (between "<name" and ">"): the attribute, with whitespace before it.
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^<>]*\sstyle\s*=", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
SCRIPT_ELEMENT = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def assert_strict_policy(response, what: str) -> None:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{what}: no Content-Security-Policy header"
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"], (what, policy)
    assert directives["style-src"] == ["'self'"], (what, policy)
    assert directives["default-src"] == ["'self'"], (what, policy)
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"], (what, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (what, policy)


def test_login_page_has_the_policy(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_strict_policy(response, "login")


def test_reseller_pages_have_the_policy(client, rich, web_shop):
    client.force_login(rich)
    for name, args in [("dashboard", []), ("catalogue", []), ("order_new", ["smm"]), ("balance", [])]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        assert_strict_policy(response, name)


def test_admin_pages_have_the_policy(client, operator):
    assert_strict_policy(client.get(reverse("admin:login")), "admin login")
    client.force_login(operator)
    for name in ("admin:index", "admin:orders_order_changelist", "admin:reports_profit"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert_strict_policy(response, name)


def test_csrf_failure_page_is_ours(rich):
    """Django's built-in CSRF failure page has an inline <style>; templates/403_csrf.html replaces it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(rich)
    response = client.post(reverse("deposit"), {"amount": "50000", "method": "bank"})
    assert response.status_code == 403
    assert_strict_policy(response, "csrf failure")
    page = response.content.decode()
    assert 'data-testid="csrf-failure"' in page and not inline_code(page)


def template_files() -> list[Path]:
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) >= 20, "the templates directory moved?"
    return files


def inline_code(text: str) -> list[str]:
    found = []
    found += [f"style attribute: {m.group(0)[-80:]}" for m in STYLE_ATTRIBUTE.finditer(text)]
    found += [f"<style> element: {m.group(0)}" for m in STYLE_ELEMENT.finditer(text)]
    found += [f"event handler: {m.group(0)[-80:]}" for m in HANDLER_ATTRIBUTE.finditer(text)]
    found += [f"javascript: URL: {m.group(0)}" for m in JS_URL.finditer(text)]
    found += [
        f"inline <script>: {m.group(0)}"
        for m in SCRIPT_ELEMENT.finditer(text)
        if not re.search(r"\ssrc\s*=", m.group(0), re.IGNORECASE)
    ]
    return found


def test_no_template_has_inline_script_or_style():
    problems = {str(path.relative_to(TEMPLATES)): inline_code(path.read_text()) for path in template_files()}
    problems = {name: found for name, found in problems.items() if found}
    assert problems == {}, "inline code the Content-Security-Policy refuses (use static/css, static/js)"


def test_no_markup_built_in_python_has_inline_script_or_style():
    """Admin columns and widgets build HTML with format_html / mark_safe: the same rule holds there."""
    root = Path(settings.BASE_DIR)
    sources = [p for app in ("accounts", "orders", "providers", "panel") for p in (root / app).rglob("*.py")]
    assert len(sources) >= 50
    problems = {str(path.relative_to(root)): inline_code(path.read_text()) for path in sources}
    problems = {name: found for name, found in problems.items() if found}
    assert problems == {}


@pytest.mark.parametrize(
    "snippet",
    [
        '<p class="x" style="margin:0">',
        '<tr{% if low %} style="background:red"{% endif %}>',
        "<style>p { color: red }</style>",
        '<select name="language" onchange="this.form.submit()">',
        "<body onload='go()'>",
        "<script>alert(1)</script>",
        '<script type="module">import "./x.js"</script>',
        '<a href="javascript:void(0)">',
    ],
)
def test_the_scan_finds_inline_code(snippet):
    assert inline_code(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "<script src=\"{% static 'js/panel.js' %}\" defer></script>",
        '<form method="post" data-once data-confirm="Cancel?">',
        '<rect x="1" y="2" width="12" height="4" fill="#2563eb"/>',
        "<p>Pay online = pay now, style = plain</p>",
        '<progress class="progress" max="10" value="4">40%</progress>',
    ],
)
def test_the_scan_lets_clean_markup_through(snippet):
    assert inline_code(snippet) == [], snippet
