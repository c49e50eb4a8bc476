"""The one place Rupiah amounts are quantized and formatted (and counts given their thousands separators).
No floats anywhere."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format

CENT = Decimal("0.01")
RUPIAH = Decimal("1")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # fits DecimalField(max_digits=14, decimal_places=2)


class InvalidAmount(ValueError):
    pass


def to_money(value: object) -> Decimal:
    """Parse an amount (Decimal, int or text such as "15000", "15.000,50", "-2500") to 2 places.

    Floats are refused: they cannot represent Rupiah exactly and must never reach the ledger.
    """
    if isinstance(value, float | bool) or value is None:
        raise InvalidAmount(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        text = str(value).strip().replace(" ", "").removeprefix("Rp").removeprefix("rp")
        if "," in text and text.count(",") == 1 and len(text.split(",")[1]) <= 2:
            text = text.replace(".", "").replace(",", ".")  # Indonesian 15.000,50
        elif text.count(".") > 1 or (text.count(".") == 1 and len(text.split(".")[1]) == 3):
            text = text.replace(".", "")  # 15.000 thousands separators
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount(f"not an amount: {value!r}") from None
    if not number.is_finite():
        raise InvalidAmount(f"not an amount: {value!r}")
    result = number.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(result) > MAX_AMOUNT:
        raise InvalidAmount(f"amount too large: {value!r}")
    return result


def ceil_rupiah(value: Decimal) -> Decimal:
    """Round up to whole Rupiah: what an order is charged (never below its true price)."""
    return value.quantize(RUPIAH, rounding=ROUND_CEILING).quantize(CENT)


def floor_money(value: Decimal) -> Decimal:
    """Round down to the cent: refunds of a share never exceed what is owed."""
    return value.quantize(CENT, rounding=ROUND_FLOOR)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round up to a multiple of `step` (e.g. Rp 50); step <= 0 means whole Rupiah."""
    if step <= 0:
        return ceil_rupiah(value)
    return ((value / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(CENT)


def format_rupiah(value: Decimal | int | None) -> str:
    """Rp 15.000 (dots for thousands; decimals only when there are any: Rp 1.234,50)."""
    if value is None:
        return "-"
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole = int(amount)
    cents = int((amount - whole) * 100)
    text = f"{whole:,}".replace(",", ".")
    if cents:
        text += f",{cents:02d}"
    return f"{sign}Rp {text}"


def format_count(value: int | None) -> str:
    """A count with the active language's thousands separator: 1.000 in Indonesian, 1,000 in English."""
    if value is None:
        return "-"
    return number_format(int(value), force_grouping=True)


# Short forms for chart axes, largest first: ribu, juta, miliar, triliun (the Indonesian abbreviations, as
# format_rupiah writes Indonesian digits in every language).
_SHORT_UNITS = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "M"), (Decimal(10) ** 6, "jt"), (Decimal(10) ** 3, "rb"))


def _indonesian_number(value: Decimal) -> str:
    """1234.5 -> 1.234,5 (dots for thousands, a comma before the decimals, no trailing zeros)."""
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,"))


def format_rupiah_short(value: Decimal | int, places: int = 2) -> str:
    """Rp 50 rb, Rp 1,25 jt, Rp 3 M: an axis tick's short form, at most `places` decimals (rounded half up).
    Below Rp 1 rb it is format_rupiah's text."""
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    quantum = Decimal(1).scaleb(-places)
    for unit, suffix in _SHORT_UNITS:
        scaled = (abs(amount) / unit).quantize(quantum, rounding=ROUND_HALF_UP)
        if scaled >= 1:  # judged after rounding: Rp 999.999 is "Rp 1 jt", not "Rp 1.000 rb"
            return f"{sign}Rp {_indonesian_number(scaled)} {suffix}"
    return format_rupiah(amount)


def rupiah_heading(label: str) -> str:
    """A money column's heading in a CSV: "Biaya (Rp)". The cells below stay plain numbers (orders.reports.csv),
    so the currency is said once, in the heading."""
    return f"{label} (Rp)"
