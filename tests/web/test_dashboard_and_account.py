"""Dashboard figures (WIB days, charges minus refunds), the balance and deposit pages, the API key page,
and the language switch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from accounts.models import ApiKey, LedgerEntry
from accounts.services import apikey_authenticate, wallet_debit, wallet_refund
from orders.reports.charts import spend_chart
from orders.selectors import daily_spend, spend_since, wib_start, wib_today
from tests.web.conftest import make_orders

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def _charge(user, order, amount, at):
    entry = wallet_debit(user=user, amount=amount, order_id=order.pk, reason=f"Order #{order.pk}")
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=at)


def test_spend_is_counted_per_wib_day(rich, web_shop):
    orders = make_orders(rich, web_shop, 4)
    today = wib_today()
    midnight = wib_start(today)
    _charge(rich, orders[0], 10_000, midnight + timedelta(minutes=5))  # today 00:05 WIB (yesterday in UTC)
    _charge(rich, orders[1], 7_000, midnight - timedelta(minutes=5))  # yesterday 23:55 WIB
    _charge(rich, orders[2], 3_000, midnight - timedelta(days=45))  # outside the chart
    refund = wallet_refund(order_id=orders[0].pk, amount=Decimal("4000"), reason="refund")
    LedgerEntry.objects.filter(pk=refund.pk).update(created_at=midnight + timedelta(minutes=10))

    assert spend_since(rich, midnight) == Decimal("6000")
    days = daily_spend(rich, 30, today)
    assert len(days) == 30 and days[-1].day == today
    assert days[-1].amount == Decimal("6000") and days[-2].amount == Decimal("7000")
    assert sum(d.amount for d in days) == Decimal("13000")


def test_dashboard_numbers(client, rich, web_shop):
    orders = make_orders(rich, web_shop, 14)
    now = timezone.now()
    _charge(rich, orders[0], 15_000, now)
    client.force_login(rich)
    html = client.get(reverse("dashboard")).content.decode()
    assert re.search(r'data-testid="spend-today">Rp 15\.000<', html)
    month_start = wib_start(wib_today().replace(day=1))
    assert spend_since(rich, month_start) >= Decimal("15000")
    assert html.count('class="bar"') == 30 and html.count('<g class="day"') == 30
    assert 'data-testid="status-counts"' in html and "?status=pending" in html
    assert html.count("/pesanan/") >= 8  # recent orders link to their pages
    assert "Rp 4.985.000" in html  # 5,000,000 - 15,000


def test_dashboard_chart_has_rupiah_ticks_and_tooltip_data(client, rich, web_shop):
    orders = make_orders(rich, web_shop, 2)
    midnight = wib_start(wib_today())
    _charge(rich, orders[0], 7_000, midnight + timedelta(hours=1))
    _charge(rich, orders[1], 3_500, midnight - timedelta(hours=1))
    client.force_login(rich)
    html = client.get(reverse("dashboard")).content.decode()

    ticks = re.search(r'data-testid="chart-y-ticks">(.*?)</div>', html).group(1)
    assert re.findall(r"<span>(.*?)</span>", ticks) == ["Rp 0", "Rp 2 rb", "Rp 4 rb", "Rp 6 rb", "Rp 8 rb"]
    today = formats.date_format(wib_today(), "D, j M Y")
    assert f'data-date="{today}" data-amount="Rp 7.000"' in html  # the tooltip's text, from data-* attributes
    assert f"<title>{today}: Rp 7.000</title>" in html  # without JS, the browser's own tooltip
    assert html.count('data-amount="Rp 0"') == 28
    assert re.search(r'viewBox="0 0 3000 1000" preserveAspectRatio="none"', html)
    assert re.search(r'<rect class="bar" x="2918" y="125" width="64" height="875">', html)  # 7000 of 8000
    labels = re.search(r'data-testid="chart-x-labels">(.*?)</div>', html).group(1)
    assert len(re.findall(r'<span class="(?:start|middle|end)', labels)) == 5
    assert "Total: Rp 10.500" in html and "Hari tertinggi: Rp 7.000." in html
    assert "Arahkan kursor ke batang atau ketuk" in html


def test_dashboard_chart_without_spending(client, rich, web_shop):
    client.force_login(rich)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'class="spend-chart is-empty"' in html and "Tidak ada belanja dalam 30 hari terakhir." in html
    assert re.findall(r'data-testid="chart-y-ticks">(.*?)</div>', html) == ["<span>Rp 0</span>"]
    assert "Hari tertinggi" not in html


def test_the_chart_is_one_query_whatever_the_spending(rich, web_shop, django_assert_num_queries):
    orders = make_orders(rich, web_shop, 3)
    for i, order in enumerate(orders):
        _charge(rich, order, 1_000, timezone.now() - timedelta(days=i * 5))
    with django_assert_num_queries(1):
        spend_chart(daily_spend(rich, 30))


def test_balance_page_shows_the_running_balance(client, rich, web_shop):
    orders = make_orders(rich, web_shop, 60, charged=60)
    client.force_login(rich)
    html = client.get(reverse("balance")).content.decode()
    afters = re.findall(r'<td class="num">(Rp [\d.]+)</td>\s*</tr>', html)
    assert len(afters) == 50
    assert afters[0] == "Rp 4.910.000"  # 5,000,000 - 60 x 1,500, newest first
    assert f'href="/pesanan/{orders[-1].pk}/"' in html
    older = re.search(r'href="\?before=(\d+)"', html).group(1)
    rest = client.get(reverse("balance") + f"?before={older}").content.decode()
    assert len(re.findall(r'<td class="num">(Rp [\d.]+)</td>\s*</tr>', rest)) == 11  # 10 charges + the deposit


def test_deposit_request(client, rich):
    client.force_login(rich)
    response = client.post(reverse("deposit"), {"amount": "250000", "method": "bank", "note": "BCA a.n. Kaya"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Rp 250.000" in page and "BCA a.n. Kaya" in page
    assert "badge pending" in page
    balance = client.get(reverse("balance")).content.decode()
    assert "Rp 250.000" in balance  # listed as waiting


def test_api_key_is_shown_once(client, rich, settings):
    settings.PANEL_PUBLIC_URL = "https://panel.example.id"
    client.force_login(rich)
    page = client.get(reverse("api_key")).content.decode()
    assert "https://panel.example.id/api/json.php" in page and "https://panel.example.id/api/v2" in page
    assert "https://panel.example.id/api/prepaid" in page and "api_sms_reguler_send_json.php" in page
    assert f'data-testid="user-id">{rich.pk}<' in page

    response = client.post(reverse("api_key_rotate"))
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    key = re.search(r'data-testid="new-key">([0-9a-f]+)<', response.content.decode()).group(1)
    assert apikey_authenticate(key) == rich
    assert f"KEY='{key}'" in response.content.decode()  # the examples carry it, this once

    again = client.get(reverse("api_key")).content.decode()
    assert key not in again and key[:8] in again  # only the prefix from now on
    client.post(reverse("api_key_rotate"))
    assert apikey_authenticate(key) is None and ApiKey.objects.filter(user=rich).count() == 1


def test_language_switch(client, rich, web_shop):
    client.force_login(rich)
    indonesian = client.get(reverse("dashboard")).content.decode()
    assert 'lang="id"' in indonesian and "Saldo" in indonesian and "Pesanan terbaru" in indonesian
    client.post(reverse("set_language"), {"language": "en", "next": reverse("dashboard")})
    english = client.get(reverse("dashboard")).content.decode()
    assert 'lang="en"' in english and "Recent orders" in english and "Balance" in english


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "en", "id-ID,id;q=0.9", "*", "xx-YY, ;q=abc"])
def test_a_first_visit_is_indonesian_whatever_the_browser_asks(client, accept):
    """Indonesian first: an en-US browser gets the Indonesian login page; Accept-Language is not consulted."""
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=accept)
    page = response.content.decode()
    assert response.status_code == 200 and 'lang="id"' in page and "Masuk" in page
    assert response["Content-Language"] == "id"


def test_the_language_switch_is_remembered_for_a_year(client, rich, web_shop, settings):
    client.force_login(rich)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("dashboard")})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and int(cookie["max-age"]) == 365 * 24 * 3600 and cookie["samesite"] == "Lax"

    english = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="id-ID")  # the choice beats the browser
    assert 'lang="en"' in english.content.decode() and english["Content-Language"] == "en"

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"  # a language the panel does not have: Indonesian
    assert 'lang="id"' in client.get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("name", ["dashboard", "catalogue", "order_list", "balance", "deposit", "api_key"])
def test_pages_are_in_indonesian(client, rich, web_shop, name):
    """No English left on the Indonesian pages (a few words are the same in both languages)."""
    make_orders(rich, web_shop, 8)
    client.force_login(rich)
    html = client.get(reverse(name)).content.decode()
    text = re.sub(r"<(script|style|pre)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    for english in ("Balance", "Orders", "Catalogue", "Charge", "Time", "Search", "Download", "Top up", "Status:"):
        assert not re.search(rf"\b{english}\b", text), (name, english)


def test_times_are_wib(client, rich, web_shop):
    order = make_orders(rich, web_shop, 1)[0]
    when = datetime(2026, 1, 1, 23, 30, tzinfo=WIB)
    type(order).objects.filter(pk=order.pk).update(created_at=when)
    client.force_login(rich)
    html = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "01 Jan 2026 23:30:00 WIB" in html
