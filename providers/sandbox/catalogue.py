"""Deterministic generated catalogues, in each vendor's own shape.

The same size always yields the same items (ids, prices, stock), so tests and the demo can name
items. A size above the default repeats the base items as further "servers" with new ids, which
is how a benchmark gets a catalogue of 20,000 items.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

VIRTUSIM_DEFAULT_SIZE = 40
SMM_DEFAULT_SIZE = 120
OSIMESA_DEFAULT_SIZE = 60


def _h(*parts: object) -> int:
    """A stable number from the parts (Python's hash() is salted per process)."""
    return int(hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)  # noqa: S324


def _size(size: int, default: int) -> int:
    return size if size > 0 else default


# --- VirtuSIM -------------------------------------------------------------------------------------
_OTP_APPS = [
    "Twitter", "Lazada", "WhatsApp", "Telegram", "Shopee", "Tokopedia", "Gojek", "Grab", "Facebook",
    "Instagram", "Google", "TikTok", "Line", "WeChat", "Discord", "Bukalapak", "Blibli", "DANA", "OVO",
    "LinkAja", "Netflix", "Spotify", "Amazon", "Microsoft", "Yahoo", "Apple", "Snapchat", "Tinder",
    "Bumble", "Uber", "Steam", "PayPal", "Viber", "KakaoTalk", "Naver", "BitClout", "Zalo", "Akulaku",
    "Kredivo", "Anyother",
]  # fmt: skip


def virtusim_services(size: int = 0) -> list[dict[str, str]]:
    """`{"id", "name", "price", "tersedia", "category"}`, numbers as strings; every 13th out of stock."""
    items = []
    for i in range(_size(size, VIRTUSIM_DEFAULT_SIZE)):
        app = _OTP_APPS[i % len(_OTP_APPS)]
        server = i // len(_OTP_APPS)
        name = app if server == 0 else f"{app} Server {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[server % 26]}"
        seed = _h("virtusim", i)
        stock = 0 if i % 13 == 12 else 500 + seed % 9000
        items.append(
            {
                "id": str(i + 1),
                "name": name,
                "price": str(500 + (seed % 31) * 50),
                "tersedia": str(stock),
                "category": "OTP",
            }
        )
    return items


# --- SMM v2 ---------------------------------------------------------------------------------------
_SMM_PLATFORMS = ["Instagram", "TikTok", "YouTube", "Facebook", "Twitter"]
# (product, base rate per 1000 in Rupiah, min, max)
_SMM_PRODUCTS = [
    ("Followers", 18000, 100, 10000),
    ("Likes", 6000, 50, 50000),
    ("Views", 1500, 100, 1000000),
    ("Comments", 45000, 10, 1000),
    ("Shares", 9000, 50, 20000),
    ("Saves", 5000, 50, 20000),
]
_SMM_VARIANTS = ["Real", "HQ", "Refill 30 Hari", "Fast", "Indonesia", "No Refill", "Refill 7 Hari", "Murah"]


def smm_services(size: int = 0) -> list[dict[str, Any]]:
    """SMM v2 `services` items: string rate/min/max, boolean refill/cancel, ids mostly numeric.

    Every 10th item has a 24-character hex id, as some v2 panels use.
    """
    combos = [(p, prod, v) for p in _SMM_PLATFORMS for prod in _SMM_PRODUCTS for v in _SMM_VARIANTS[:4]]
    items = []
    for i in range(_size(size, SMM_DEFAULT_SIZE)):
        platform, (product, base, lo, hi), variant = combos[i % len(combos)]
        server = i // len(combos)
        if server:
            variant = _SMM_VARIANTS[(server + i) % len(_SMM_VARIANTS)] + f" S{server + 1}"
        seed = _h("smm", i)
        rate = Decimal(base) * (Decimal(80) + seed % 60) / 100
        # A few rates carry cents, as real panels' do.
        rate = rate.quantize(Decimal("1")) + (Decimal("0") if i % 7 else Decimal("0.5"))
        service_id = hashlib.md5(f"smm{i}".encode()).hexdigest()[:24] if i % 10 == 9 else str(1001 + i)  # noqa: S324
        items.append(
            {
                "service": service_id,
                "name": f"{platform} {product} [{variant}]",
                "category": platform,
                "type": "Default",
                "rate": str(rate),
                "min": str(lo),
                "max": str(hi),
                "refill": "Refill" in variant and "No Refill" not in variant,
                "cancel": seed % 3 == 0,
            }
        )
    return items


# --- Osimesa --------------------------------------------------------------------------------------
_OPERATORS = {
    "TELKOMSEL": ("TSEL", "Telkomsel", "Flash"),
    "INDOSAT": ("ISAT", "Indosat", "Freedom"),
    "XL": ("XL", "XL", "Xtra Combo"),
    "AXIS": ("AX", "Axis", "Bronet"),
    "TRI": ("TRI", "Three", "AON"),
}
_PULSA = [5000, 10000, 20000, 25000, 50000, 100000]
_DATA = [(2, 7, 15000), (8, 30, 45000), (15, 30, 65000), (30, 30, 95000)]
_EMONEY = [
    ("DANA", "DANA"),
    ("OVO", "OVO"),
    ("GOPAY", "GoPay"),
    ("SHOPEEPAY", "ShopeePay"),
    ("LINKAJA", "LinkAja"),
]
_CUTOFFS = [("23:30", "00:30"), ("23:45", "00:15"), ("22:00", "02:00")]
NO_CUTOFF = ("00:00", "00:00")  # start == end: no window


def _rp(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _osimesa_base() -> list[tuple[str, str, str, str, str, int, str]]:
    """(code, name, type, main, sub, nominal cost, note) for the 60 base products."""
    base = []
    for main, (prefix, label, package) in _OPERATORS.items():
        for nominal in _PULSA:
            name = f"{label} Pulsa {_rp(nominal)}"
            cost = nominal + 1500 + nominal // 50
            base.append((f"{prefix}{nominal // 1000}", name, "pulsa-reguler", main, "Pulsa Reguler", cost, "-"))
        for gb, days, price in _DATA:
            name = f"{label} Data {package} {gb} GB / {days} Hari"
            note = f"Kuota {gb} GB, masa aktif {days} hari"
            base.append((f"{prefix}D{gb}", name, "paket-internet", main, package, price, note))
    for code, label in _EMONEY:
        for nominal in (20000, 50000):
            name, note = f"{label} Saldo {_rp(nominal)}", "Nomor HP terdaftar"
            base.append((f"{code}{nominal // 1000}", name, "e-money", code, "Saldo", nominal + 1000, note))
    return base


def osimesa_products(size: int = 0) -> list[dict[str, Any]]:
    """Osimesa `service` items. Every 11th is `empty`; every 8th has a nightly cutoff window."""
    base = _osimesa_base()
    items = []
    for i in range(_size(size, OSIMESA_DEFAULT_SIZE)):
        code, name, kind, main, sub, cost, note = base[i % len(base)]
        server = i // len(base)
        if server:
            code, name = f"{code}S{server + 1}", f"{name} (Server {server + 1})"
        standar = cost + _h("osimesa", i) % 8 * 25
        start, end = _CUTOFFS[i // 8 % len(_CUTOFFS)] if i % 8 == 7 else NO_CUTOFF
        items.append(
            {
                "category": {"type": kind, "main": main, "sub": sub},
                "multi": "1",
                "name": name,
                "note": note,
                "code": code,
                "price": {
                    "list": {"standar": standar, "premium": standar - 200, "spesial": standar - 350},
                    "current": standar,
                },
                "cutoff": {"start": start, "end": end},
                "status": "empty" if i % 11 == 10 else "ready",
                "updated_at": 1711103224 + i * 3600,
            }
        )
    return items


def find(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any] | None:
    return next((item for item in items if item[key] == value), None)
