"""The catalogue reads in human names (#19, item 6): upstream codes such as `pulsa-reguler / TELKOMSEL`
become "Telkomsel · Pulsa" with the operator's badge, SMM categories their platform, and the OTP tab
drops the "OTP · OTP" every VirtuSIM service carries."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.translation import override

from orders.catalogue_labels import brand_of, category_choices, category_label

# (kind, upstream category, Indonesian name, English name, badge)
CASES = [
    ("prepaid", "pulsa-reguler / TELKOMSEL / Pulsa Reguler", "Telkomsel · Pulsa", "Telkomsel · Pulsa", "TS"),
    ("prepaid", "paket-internet / TRI / AON", "Tri · Paket data · AON", "Tri · Data package · AON", "3"),
    ("prepaid", "e-money / DANA / Saldo", "DANA · Saldo e-wallet", "DANA · E-wallet top-up", "DA"),
    ("prepaid", "pulsa / XL", "XL · Pulsa", "XL · Pulsa", "XL"),
    ("prepaid", "token-pln", "PLN · Token listrik", "PLN · Electricity token", "PLN"),
    (
        "prepaid",
        "voucher-game / MOBILE LEGENDS",
        "Voucher game · MOBILE LEGENDS",
        "Game voucher · MOBILE LEGENDS",
        None,
    ),
    ("prepaid", "bpjs_kesehatan", "Bpjs kesehatan", "Bpjs kesehatan", None),
    ("smm", "Instagram", "Instagram", "Instagram", "IG"),
    (
        "smm",
        "Instagram Followers [Indonesia]",
        "Instagram · Followers [Indonesia]",
        "Instagram · Followers [Indonesia]",
        "IG",
    ),
    ("smm", "Twitter", "X (Twitter)", "X (Twitter)", "X"),
    ("smm", "Website Traffic", "Website Traffic", "Website Traffic", None),
    ("otp", "OTP", "", "", None),
    ("otp", "Indonesia", "Indonesia", "Indonesia", None),
    ("prepaid", "", "", "", None),
]


@pytest.mark.parametrize(("kind", "category", "indonesian", "english", "badge"), CASES)
def test_categories_read_as_human_names(kind, category, indonesian, english, badge):
    with override("id"):
        label = category_label(kind, category)
        assert label.text == indonesian
    with override("en"):
        assert category_label(kind, category).text == english
    assert (label.brand.initials if label.brand else None) == badge


def test_brands_are_whole_words():
    assert brand_of("XL Pulsa 5.000").slug == "xl"
    assert brand_of("Telkomsel Data Flash").slug == "telkomsel"
    assert brand_of("Axis").slug == "axis"
    assert brand_of("Boxing X") is None  # a lone "X" names Twitter only on its own
    assert brand_of("Pixel") is None and brand_of("") is None


def test_filter_options_are_named_and_sorted_and_skip_names_of_nothing():
    with override("id"):
        options = category_choices(
            [
                ("prepaid", "pulsa-reguler / TELKOMSEL / Pulsa Reguler"),
                ("prepaid", "e-money / DANA / Saldo"),
                ("prepaid", "paket-internet / TELKOMSEL / Flash"),
                ("otp", "OTP"),
                ("smm", ""),
            ]
        )
    assert options == [
        ("e-money / DANA / Saldo", "DANA · Saldo e-wallet"),
        ("paket-internet / TELKOMSEL / Flash", "Telkomsel · Paket data · Flash"),
        ("pulsa-reguler / TELKOMSEL / Pulsa Reguler", "Telkomsel · Pulsa"),
    ]


@pytest.mark.django_db
def test_the_catalogue_groups_products_under_human_names(client, rich, web_shop):
    client.force_login(rich)
    html = client.get(reverse("catalogue"), {"kind": "prepaid"}).content.decode()
    heads = re.findall(r'<tr class="group-head">(.*?)</tr>', html)
    assert any('data-brand="telkomsel"' in head and "Telkomsel · Pulsa" in head for head in heads)
    assert "pulsa / TELKOMSEL" not in html.replace('value="pulsa / TELKOMSEL"', "")  # only as a filter value
    assert '<option value="pulsa / TELKOMSEL">Telkomsel · Pulsa</option>' in html


@pytest.mark.django_db
def test_the_otp_catalogue_has_no_otp_otp_line(client, rich, web_shop):
    client.force_login(rich)
    html = client.get(reverse("catalogue"), {"kind": "otp"}).content.decode()
    assert "OTP · OTP" not in html and 'class="group-head"' not in html
    assert 'data-brand="whatsapp"' in html  # the app's own badge beside its name


@pytest.mark.django_db
def test_the_order_form_groups_products_under_human_names(client, rich, web_shop):
    client.force_login(rich)
    html = client.get(reverse("order_new", args=["prepaid"])).content.decode()
    assert '<optgroup label="Telkomsel · Pulsa">' in html and 'label="pulsa / TELKOMSEL"' not in html
    otp = client.get(reverse("order_new", args=["otp"])).content.decode()
    assert "<optgroup" not in otp  # "OTP" names nothing: the products stand ungrouped
