from decimal import Decimal

import pytest
from django.utils.translation import override

from accounts.money import (
    InvalidAmount,
    ceil_rupiah,
    ceil_to_step,
    floor_money,
    format_count,
    format_rupiah,
    format_rupiah_short,
    to_money,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15000", "15000.00"),
        ("15.000", "15000.00"),
        ("1.250.000", "1250000.00"),
        ("15.000,50", "15000.50"),
        ("Rp 2.500", "2500.00"),
        ("-25000", "-25000.00"),
        ("12.5", "12.50"),
        (Decimal("0.005"), "0.01"),
        (7, "7.00"),
    ],
)
def test_to_money_parses_rupiah_forms(text, expected):
    assert to_money(text) == Decimal(expected)


@pytest.mark.parametrize("bad", [1.5, None, True, "abc", "NaN", "Infinity", "1e20", ""])
def test_to_money_refuses_floats_and_garbage(bad):
    with pytest.raises(InvalidAmount):
        to_money(bad)


def test_rounding_helpers():
    assert ceil_rupiah(Decimal("15.01")) == Decimal("16.00")
    assert ceil_rupiah(Decimal("15.00")) == Decimal("15.00")
    assert floor_money(Decimal("3.339")) == Decimal("3.33")
    assert ceil_to_step(Decimal("1201"), Decimal("50")) == Decimal("1250.00")
    assert ceil_to_step(Decimal("1250"), Decimal("50")) == Decimal("1250.00")
    assert ceil_to_step(Decimal("10.2"), Decimal("0")) == Decimal("11.00")


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("15000"), "Rp 15.000"), (Decimal("1234.5"), "Rp 1.234,50"), (0, "Rp 0"), (Decimal("-2500"), "-Rp 2.500")],
)
def test_format_rupiah(amount, text):
    assert format_rupiah(amount) == text


@pytest.mark.parametrize(
    ("language", "value", "text"),
    [("id", 6938, "6.938"), ("en", 6938, "6,938"), ("id", 1000000, "1.000.000"), ("id", 7, "7"), ("id", None, "-")],
)
def test_format_count_uses_the_languages_separator(language, value, text):
    with override(language):
        assert format_count(value) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp 0"),
        (Decimal("500"), "Rp 500"),
        (Decimal("1000"), "Rp 1 rb"),
        (Decimal("2500"), "Rp 2,5 rb"),
        (Decimal("50000"), "Rp 50 rb"),
        (Decimal("125000"), "Rp 125 rb"),
        (Decimal("1200000"), "Rp 1,2 jt"),
        (Decimal("1250000"), "Rp 1,25 jt"),
        (Decimal("1234567"), "Rp 1,23 jt"),  # half up to two decimals
        (Decimal("999999"), "Rp 1 jt"),  # not "Rp 1.000 rb"
        (Decimal("250000000"), "Rp 250 jt"),
        (Decimal("3000000000"), "Rp 3 M"),
        (Decimal("-7500"), "-Rp 7,5 rb"),
        (15_000, "Rp 15 rb"),
    ],
)
def test_format_rupiah_short(amount, text):
    assert format_rupiah_short(amount) == text


def test_format_rupiah_short_places_and_floats():
    assert format_rupiah_short(Decimal("1250000"), places=1) == "Rp 1,3 jt"
    assert format_rupiah_short(Decimal("1999999999"), places=0) == "Rp 2 M"
    with pytest.raises(InvalidAmount):
        format_rupiah_short(1.5)
