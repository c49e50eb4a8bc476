"""No English left in the Indonesian reseller pages (#19, items 1 and 3).

A reseller with orders of every kind in every state (with the history, delivery reports and resend
requests real orders collect) opens every page in Indonesian, the default language (no cookie): each
gettext lookup that no catalogue translates is a miss. Data that is not a msgid (delivery notes from the
gateways, history entries, statuses) is shown as a label chosen by its code; amounts read "Rp 68.350" and
counts "1.000". The same pages in English keep reading English."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from orders.labels import EVENT_LABELS, REQUEST_DEFAULT, REQUEST_LABELS
from orders.models import EventCode, Order, OrderEvent, OrderRecipient
from orders.services import order_action
from tests.i18n_check import untranslated_msgids
from tests.web.conftest import make_orders

pytestmark = pytest.mark.django_db

# What gateways write in a recipient's row (code, text): RajaSMS sending statuses and delivery reports,
# masking_http reports, and the panel's own note when nothing could be sent.
NOTES = [
    ("delivered", "3", "Delivered Success"),
    ("delivered", "10", "Delivered Success Backup"),
    ("failed", "4", "Delivered Error"),
    ("failed", "6", "Saldo Minus/Expired"),
    ("rejected", "60", "Invalid Number"),
    ("queued", "10", "success"),
    ("sent", "2", "Sent"),
    ("rejected", "", "ProviderRejected: every packet was rejected"),
]


@pytest.fixture
def showcase(rich, web_shop, upstream):
    """Orders of every kind in every state, with the history and recipients real ones collect."""
    orders = make_orders(rich, web_shop, 28)  # 4 kinds x 7 states
    for order in orders:
        events = [(EventCode.ACCEPTED, "submitting", "pending")]
        fields: dict = {}
        if order.status in ("failed", "canceled"):
            fields["refunded"] = order.charge
        if order.status == "failed":
            events = [(EventCode.REFUSED, "submitting", "failed")]
            fields["error"] = "The provider refused the order (Invalid target). Your balance has been refunded."
            fields["raw_status"] = "ProviderRejected"
        elif order.status == "unknown":
            events = [(EventCode.OUTCOME_UNKNOWN, "submitting", "unknown")]
            fields["error"] = "The provider did not confirm this order; we are checking it."
        elif order.status == "canceled":
            events.append((EventCode.RESELLER_CANCEL, "pending", "canceled"))
        elif order.status in ("completed", "partial"):
            events.append((EventCode.REFRESH, "pending", order.status))
        if order.status == "partial" and order.kind == "smm":
            fields.update(refunded=Decimal("15"), start_count=6938, remains=10)
        Order.objects.filter(pk=order.pk).update(**fields)
        OrderEvent.objects.bulk_create(
            OrderEvent(order=order, code=code, from_status=a, to_status=b, reason="upstream says hi")
            for code, a, b in events
        )
    # An SMS send of 1,000 numbers for Rp 68.350, with every kind of delivery note.
    big = Order.objects.filter(user=rich, kind="sms", status="processing").first()
    Order.objects.filter(pk=big.pk).update(charge=Decimal("68350"), quantity=1000)
    big.recipients.all().delete()
    OrderRecipient.objects.bulk_create(
        OrderRecipient(
            order=big,
            number=f"62812{i:07d}",
            state=NOTES[i % len(NOTES)][0],
            code=NOTES[i % len(NOTES)][1],
            text=NOTES[i % len(NOTES)][2],
        )
        for i in range(1000)
    )
    OrderEvent.objects.create(
        order=big, code=EventCode.DELIVERY, from_status="processing", to_status="processing", reason="500/1000"
    )
    # An OTP number with its code, and a resend asked for through the page's action.
    otp = Order.objects.filter(user=rich, kind="otp", status="pending").first()
    order_action(rich, otp, "resend")
    OrderEvent.objects.create(
        order=otp,
        code=EventCode.RESELLER_REQUEST,
        from_status="pending",
        to_status="pending",
        reason="resend diminta",
        actor=rich,
    )  # written by an earlier version
    smm = Order.objects.filter(user=rich, kind="smm", status="completed").first()
    Order.objects.filter(pk=smm.pk).update(quantity=10000, start_count=6938, remains=0)
    return rich


def reseller_urls(user) -> list[str]:
    urls = [
        reverse("dashboard"),
        reverse("catalogue"),
        reverse("catalogue") + "?kind=otp",
        reverse("catalogue") + "?kind=smm",
        reverse("catalogue") + "?kind=prepaid",
        reverse("catalogue") + "?kind=sms",
        reverse("order_start"),
        reverse("order_list"),
        reverse("order_list") + "?kind=sms&status=processing&start=2020-01-01&end=2100-01-01&q=0812",
        reverse("order_list") + "?status=failed",
        reverse("balance"),
        reverse("deposit"),
        reverse("api_key"),
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("orders_csv"),
        reverse("ledger_csv"),
    ]
    urls += [reverse("order_new", args=[kind]) for kind in ("otp", "smm", "prepaid", "sms")]
    for order in Order.objects.filter(user=user).order_by("id"):
        urls += [reverse("order_detail", args=[order.pk]), reverse("order_status", args=[order.pk])]
    return urls


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


ORDER_REQUESTS = {
    "otp": lambda shop: {"service": shop.otp.pk, "operator": "any"},
    "smm": lambda shop: {"service": shop.smm.pk, "link": "https://instagram.com/p/xyz", "quantity": "1.000"},
    "prepaid": lambda shop: {"service": shop.prepaid.pk, "target": "0812-3456-7890"},
    "sms": lambda shop: {"sms_type": "reguler", "message": "Halo", "recipients": "081234567890\n081234567891"},
}


def test_every_reseller_page_in_indonesian_has_no_untranslated_msgid(client, showcase, web_shop):
    client.force_login(showcase)
    with untranslated_msgids() as misses:
        for url in reseller_urls(showcase):
            response = client.get(url)
            assert response.status_code == 200, url
            assert _body(response)
        for kind, data in ORDER_REQUESTS.items():  # the confirmation step, and the live price
            response = client.post(reverse("order_new", args=[kind]), data(web_shop))
            assert 'data-testid="confirm-charge"' in _body(response), kind
            assert client.post(reverse("order_price"), {"kind": kind, **data(web_shop)}).status_code == 200
        assert client.get("/tidak-ada/").status_code == 404
        assert client.get(reverse("order_detail", args=[999999])).status_code == 404
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(showcase)
        order = Order.objects.filter(user=showcase).first()
        assert strict.post(reverse("order_action", args=[order.pk]), {"action": "cancel"}).status_code == 403
        assert Client().get(reverse("login")).status_code == 200
    assert not misses, sorted(misses)


def _big_sms(user) -> Order:
    return Order.objects.get(user=user, kind="sms", quantity=1000)


def test_delivery_notes_are_labels_not_gateway_texts(client, showcase):
    client.force_login(showcase)
    html = client.get(reverse("order_detail", args=[_big_sms(showcase).pk])).content.decode()
    notes = re.findall(r'<td class="wrap small">([^<]*)</td>', html)
    assert notes[:8] == [
        "Sampai di ponsel tujuan",  # Delivered Success
        "Sampai di ponsel tujuan",  # Delivered Success Backup
        "Tidak sampai",  # Delivered Error
        "Tidak sampai",  # Saldo Minus/Expired: the gateway's balance is not the reseller's business
        "Nomor tidak valid",  # 60 Invalid Number
        "Menunggu laporan pengiriman",  # accepted, no report yet
        "Menunggu laporan pengiriman",
        "Tidak terkirim",  # the panel's own note when nothing could be sent
    ]
    for raw in (
        "Delivered Success",
        "Delivered Error",
        "Saldo Minus",
        "Invalid Number",
        "ProviderRejected",
        ">success<",
    ):
        assert raw not in html


def test_every_event_code_a_reseller_sees_has_a_label_in_both_languages():
    operators_only = {
        EventCode.REFRESH,
        EventCode.REFRESH_PAGE,
        EventCode.REFRESH_API,
        EventCode.RECONCILED,
        EventCode.NOTE,
    }
    labelled = set(EVENT_LABELS) | {EventCode.RESELLER_REQUEST, EventCode.DELIVERY}
    assert labelled | operators_only == set(EventCode), "a new EventCode needs a reseller label or a reason not to"
    labels = [*EVENT_LABELS.values(), *REQUEST_LABELS.values(), REQUEST_DEFAULT]
    with untranslated_msgids() as misses, translation.override("id"):
        indonesian = [str(label) for label in labels]
    assert not misses
    with translation.override("en"):
        english = [str(label) for label in labels]
    assert all(i != e for i, e in zip(indonesian, english, strict=True)), list(zip(indonesian, english, strict=True))


def test_otp_resend_history_reads_fully_indonesian(client, showcase):
    client.force_login(showcase)
    otp = Order.objects.filter(user=showcase, kind="otp", status="processing").first()
    response = client.post(reverse("order_action", args=[otp.pk]), {"action": "resend"}, follow=True)
    html = response.content.decode()
    assert "SMS baru sudah diminta." in html  # the message after the click
    history = html[html.index('data-testid="history"') :]
    assert "SMS baru diminta" in history
    assert "resend" not in history.lower() and "requested" not in history
    event = otp.events.get(code=EventCode.RESELLER_REQUEST)
    assert event.reason == "resend"  # the action's name; labelled in the reader's language
    # A row written by an earlier version ("resend diminta") reads the same.
    older = Order.objects.filter(user=showcase, kind="otp", status="pending").first()
    history = client.get(reverse("order_detail", args=[older.pk])).content.decode()
    history = history[history.index('data-testid="history"') :]
    assert history.count("SMS baru diminta") == 2 and "resend" not in history.lower()


def test_a_failed_order_says_why_in_indonesian_without_the_providers_words(client, showcase):
    client.force_login(showcase)
    failed = Order.objects.filter(user=showcase, kind="prepaid", status="failed").first()
    html = client.get(reverse("order_detail", args=[failed.pk])).content.decode()
    assert "Provider menolak pesanan ini. Saldo Anda sudah dikembalikan." in html
    assert "Invalid target" not in html and "The provider" not in html
    # Failed later by the provider (no message was written then): the page still says what happened.
    Order.objects.filter(pk=failed.pk).update(error="", raw_status="failed")
    html = client.get(reverse("order_detail", args=[failed.pk])).content.decode()
    assert "Pesanan tidak berhasil. Saldo Anda sudah dikembalikan." in html


def test_money_and_counts_on_the_order_pages(client, showcase):
    client.force_login(showcase)
    html = client.get(reverse("order_detail", args=[_big_sms(showcase).pk])).content.decode()
    assert '<h3 data-testid="recipients-total">1.000 penerima</h3>' in html
    assert "Rp 68.350" in html
    assert "500 dari 1.000 diterima" in html  # the delivery reports' history entry
    assert "diterima: 250" in html  # recipients per state
    smm = Order.objects.get(user=showcase, kind="smm", quantity=10000)
    html = client.get(reverse("order_detail", args=[smm.pk])).content.decode()
    assert 'data-testid="smm-start">6.938<' in html
    assert "10.000 dari 10.000 terkirim" in html
    assert "Rp 68.350" in client.get(reverse("order_list")).content.decode()


def test_csv_headers_in_the_readers_language_with_plain_numbers_below(client, showcase):
    client.force_login(showcase)
    rows = _body(client.get(reverse("orders_csv"))).lstrip("\ufeff").splitlines()
    assert rows[0] == "ID,Dibuat (WIB),Jenis,Layanan,Status,Tujuan,Jumlah,Biaya (Rp),Dikembalikan (Rp),Bersih (Rp)"
    assert any(row.endswith(",1000,68350,0,68350") for row in rows[1:])  # cells stay numbers
    ledger = _body(client.get(reverse("ledger_csv"))).lstrip("\ufeff").splitlines()
    assert ledger[0] == "ID,Waktu (WIB),Jenis,Jumlah (Rp),Saldo akhir (Rp),ID pesanan,Alasan"
    client.cookies["django_language"] = "en"
    rows = _body(client.get(reverse("orders_csv"))).lstrip("\ufeff").splitlines()
    assert rows[0] == "ID,Created (WIB),Kind,Service,Status,Target,Quantity,Charge (Rp),Refunded (Rp),Net (Rp)"


def test_ledger_entries_read_in_the_readers_language(client, showcase, web_shop):
    """A charge written while the reseller used English reads Indonesian on the Indonesian page."""
    client.force_login(showcase)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("order_new", args=["prepaid"]), ORDER_REQUESTS["prepaid"](web_shop))
    token = re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)
    client.post(
        reverse("order_place", args=["prepaid"]), {**ORDER_REQUESTS["prepaid"](web_shop), "token": token}, follow=True
    )  # followed: the "Order #n placed" message is read there
    order = Order.objects.filter(user=showcase).latest("id")
    assert showcase.wallet.entries.get(order_id=order.pk).reason == f"Order #{order.pk}"
    del client.cookies["django_language"]
    html = client.get(reverse("balance")).content.decode()
    assert f"Pesanan #{order.pk}" in html and f"Order #{order.pk}" not in html
    assert "Deposit awal" in html
    client.cookies["django_language"] = "en"
    html = client.get(reverse("balance")).content.decode()
    assert f"Order #{order.pk}" in html and "Initial deposit" in html


def test_the_same_pages_in_english_have_no_indonesian_leftovers(client, showcase):
    client.force_login(showcase)
    client.cookies["django_language"] = "en"
    otp = Order.objects.filter(user=showcase, kind="otp", status="pending").first()
    failed = Order.objects.filter(user=showcase, kind="prepaid", status="failed").first()
    pages = {
        _big_sms(showcase): [
            "1,000 recipients",
            "Delivered to the phone",
            "Invalid number",
            "500 of 1,000 delivered",
            "Rp 68.350",
        ],
        otp: ["New SMS requested"],
        failed: ["The provider refused the order. Your balance has been refunded."],
    }
    indonesian = [
        "penerima",
        "Sampai di",
        "Nomor tidak",
        "diminta",
        "dari",
        "Provider menolak",
        "Saldo Anda",
        "diterima",
    ]
    for order, expected in pages.items():
        html = client.get(reverse("order_detail", args=[order.pk])).content.decode()
        for text in expected:
            assert text in html, (order.kind, text)
        for word in indonesian:
            assert word not in html, (order.kind, word)
    html = client.get("/tidak-ada/").content.decode()
    assert "Page not found" in html and "Halaman" not in html
