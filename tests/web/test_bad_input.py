"""Every form resists bad input: negative and huge numbers, unicode, 10,000-character text, missing
fields and wrong types get a message on the page (HTTP 200), never a 500, and nothing is charged."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import DepositRequest
from accounts.selectors import balance_of
from orders.models import Order

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000
UNICODE = "💥日本語\u202eǅ\x00"
NUMBERS = ["-1", "-100000", "0", "1e309", "99999999999999999999999999", "1.5", "NaN", "١٢٣", "", " ", LONG]
TEXTS = ["", UNICODE, LONG, "<script>alert(1)</script>", "\x00\x01", "https://" + "a" * 600 + ".com"]


def bad_requests(shop) -> list[tuple[str, dict]]:
    cases: list[tuple[str, dict]] = [
        ("otp", {}),
        ("smm", {}),
        ("prepaid", {}),
        ("sms", {}),
        ("otp", {"service": shop.otp.pk, "operator": UNICODE}),
        ("otp", {"service": LONG, "operator": "any"}),
        ("otp", {"service": "-5", "operator": "any"}),
        ("otp", {"service": "99999999999999999999999", "operator": "any"}),
        ("prepaid", {"service": shop.prepaid.pk, "target": "081234567890" * 10}),
        ("sms", {"sms_type": "satelit", "message": "hai", "recipients": "081234567890"}),
        (
            "sms",
            {"sms_type": "reguler", "message": "hai", "recipients": "081234567890", "schedule_at": "99999-01-01T00:00"},
        ),
        (
            "sms",
            {"sms_type": "reguler", "message": "hai", "recipients": "081234567890", "schedule_at": "2001-01-01T00:00"},
        ),
        ("sms", {"sms_type": "reguler", "message": "hai", "recipients": ",".join(["081234567890"] * 3000)}),
        (
            "sms",
            {"sms_type": "reguler", "message": "hai", "recipients": "\n".join(f"0812{i:08d}" for i in range(1001))},
        ),
    ]
    for quantity in NUMBERS:
        cases.append(("smm", {"service": shop.smm.pk, "link": "https://instagram.com/p/x", "quantity": quantity}))
    for text in TEXTS:
        cases.append(("smm", {"service": shop.smm.pk, "link": text, "quantity": "500"}))
        cases.append(("prepaid", {"service": shop.prepaid.pk, "target": text}))
        cases.append(("sms", {"sms_type": "reguler", "message": "hai", "recipients": text}))
    for text in ("", "   \n ", LONG, "ü" * 481):  # unicode itself is a fine message (UCS-2)
        cases.append(("sms", {"sms_type": "reguler", "message": text, "recipients": "081234567890"}))
    return cases


def has_message(html: str) -> bool:
    errors = re.findall(r'class="field-error"[^>]*>([^<]+)<', html)
    return any(e.strip() for e in errors)


def test_order_forms_answer_bad_input_with_messages(client, rich, web_shop, upstream):
    client.force_login(rich)
    start = balance_of(rich)
    for kind, data in bad_requests(web_shop):
        for url in (reverse("order_new", args=[kind]), reverse("order_place", args=[kind])):
            response = client.post(url, {**data, "token": "t"})
            assert response.status_code == 200, (url, data)
            assert has_message(response.content.decode()), (url, {k: str(v)[:40] for k, v in data.items()})
        price = client.post(reverse("order_price"), {**data, "kind": kind})
        assert price.status_code == 200 and price.json()["ok"] is False, (
            kind,
            {k: str(v)[:40] for k, v in data.items()},
        )
    assert Order.objects.count() == 0 and upstream.calls == [] and balance_of(rich) == start


def test_live_price_answers_every_kind_of_nonsense(client, rich, web_shop):
    client.force_login(rich)
    for kind in ("", "pulsa", LONG, UNICODE):
        response = client.get(reverse("order_price"), {"kind": kind})
        assert response.status_code == 400 and response.json()["errors"]
    response = client.get(reverse("order_price"), {"kind": "smm", "service": web_shop.smm.pk, "quantity": "-5"})
    assert response.status_code == 200 and "quantity" in response.json()["errors"]


def test_unicode_and_html_are_shown_escaped(client, rich, web_shop):
    client.force_login(rich)
    html = client.post(
        reverse("order_new", args=["prepaid"]), {"service": web_shop.prepaid.pk, "target": "<script>alert(1)</script>"}
    ).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"amount": "-50000", "method": "bank"},
        {"amount": "0", "method": "bank"},
        {"amount": "5", "method": "bank"},
        {"amount": "999999999999999999999999", "method": "bank"},
        {"amount": "1e9", "method": "bank"},
        {"amount": "50000.5", "method": "bank"},
        {"amount": UNICODE, "method": "bank"},
        {"amount": LONG, "method": "bank"},
        {"amount": "50000", "method": "crypto"},
        {"amount": "50000", "method": ""},
        {"amount": "50000", "method": "bank", "note": LONG},
        {"amount": "NaN", "method": "qris"},
        {"amount": "Infinity", "method": "qris"},
    ],
)
def test_deposit_form_answers_bad_input_with_messages(client, rich, data):
    client.force_login(rich)
    response = client.post(reverse("deposit"), data)
    assert response.status_code == 200
    assert has_message(response.content.decode())
    assert not DepositRequest.objects.exists()


def test_deposit_accepts_indonesian_amounts_and_unicode_notes(client, rich):
    client.force_login(rich)
    response = client.post(
        reverse("deposit"), {"amount": "Rp 150.000", "method": "qris", "note": "Transfer a.n. Budi 🙏"}
    )
    assert response.status_code == 302
    deposit = DepositRequest.objects.get()
    assert deposit.amount == 150000 and deposit.note == "Transfer a.n. Budi 🙏" and deposit.status == "pending"


def test_query_strings_never_break_the_lists(client, rich, web_shop):
    client.force_login(rich)
    nasty = {"before": LONG, "after": "-1", "start": "2020-02-31", "end": LONG, "q": UNICODE + LONG, "kind": LONG}
    for name in ("order_list", "balance", "catalogue"):
        assert client.get(reverse(name), nasty).status_code == 200
    assert client.get(reverse("catalogue"), {"page": "-1", "category": LONG, "q": "%"}).status_code == 200
    assert client.get(reverse("order_new", args=["smm"]), {"service": LONG, "category": UNICODE}).status_code == 200
    huge = "9" * 30
    for params in ({"service": huge}, {"service": "١٢٣"}, {"service": "12\x00"}, {"quantity": UNICODE}):
        assert client.get(reverse("order_new", args=["smm"]), params).status_code == 200
    for q in (huge, "9" * 18, "#" + huge, "\x00", "١٢٣"):
        assert client.get(reverse("order_list"), {"q": q}).status_code == 200
        assert client.get(reverse("catalogue"), {"q": q, "category": q}).status_code == 200
    assert client.get(reverse("order_list"), {"before": "9" * 18, "after": huge}).status_code == 200
    assert client.get(reverse("balance"), {"before": "9" * 18}).status_code == 200
