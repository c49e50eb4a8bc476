"""Human names for the upstreams' catalogue codes (#19, item 6).

A provider's category is whatever its API sends: Osimesa's `pulsa-reguler / TELKOMSEL / Pulsa Reguler`
(type / operator / sub-type), an SMM panel's platform (`Instagram`), VirtuSIM's `OTP` for every app. A
reseller reads "Telkomsel · Pulsa" or "Instagram" instead, with the brand's badge beside it; the raw
category stays the key (filters, grouping order) and is never rewritten in the database.

Pure functions of text: no queries, so the catalogue, the order form's product groups and any later price
list name things the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from providers.adapters.types import ProductKind


@dataclass(frozen=True)
class Brand:
    slug: str  # the badge's colour (static/css/panel.css, [data-brand=...])
    name: str
    initials: str


_BRANDS = [
    # Operators, e-wallets, utilities (prepaid).
    Brand("telkomsel", "Telkomsel", "TS"),
    Brand("indosat", "Indosat", "IM3"),
    Brand("xl", "XL", "XL"),
    Brand("axis", "AXIS", "AX"),
    Brand("tri", "Tri", "3"),
    Brand("smartfren", "Smartfren", "SF"),
    Brand("byu", "by.U", "bU"),
    Brand("dana", "DANA", "DA"),
    Brand("ovo", "OVO", "OV"),
    Brand("gopay", "GoPay", "GP"),
    Brand("shopeepay", "ShopeePay", "SP"),
    Brand("linkaja", "LinkAja", "LA"),
    Brand("pln", "PLN", "PLN"),
    # Platforms (SMM) and apps (OTP).
    Brand("instagram", "Instagram", "IG"),
    Brand("tiktok", "TikTok", "TT"),
    Brand("youtube", "YouTube", "YT"),
    Brand("facebook", "Facebook", "FB"),
    Brand("twitter", "X (Twitter)", "X"),
    Brand("telegram", "Telegram", "TG"),
    Brand("whatsapp", "WhatsApp", "WA"),
    Brand("shopee", "Shopee", "SH"),
    Brand("spotify", "Spotify", "SF"),
    Brand("threads", "Threads", "TH"),
    Brand("google", "Google", "G"),
]
# What the upstreams write for a brand (upper case, letters and digits only) when it is not its slug.
_ALIASES = {
    "THREE": "tri",
    "IM3": "indosat",
    "INDOSATOOREDOO": "indosat",
    "X": "twitter",
    "BYU": "byu",
    "GMAIL": "google",
}
_BY_KEY = {brand.slug.upper(): brand for brand in _BRANDS} | {
    alias: next(b for b in _BRANDS if b.slug == slug) for alias, slug in _ALIASES.items()
}

# Prepaid product types, keyed by the code with everything but letters removed.
_TYPES: dict[str, Promise] = {
    "PULSA": _("Pulsa"),
    "PULSAREGULER": _("Pulsa"),
    "PULSATRANSFER": _("Pulsa transfer"),
    "PAKETINTERNET": _("Data package"),
    "PAKETDATA": _("Data package"),
    "DATA": _("Data package"),
    "EMONEY": _("E-wallet top-up"),
    "EWALLET": _("E-wallet top-up"),
    "SALDO": _("E-wallet top-up"),
    "PLN": _("Electricity token"),
    "TOKENPLN": _("Electricity token"),
    "TOKENLISTRIK": _("Electricity token"),
    "VOUCHERGAME": _("Game voucher"),
    "GAME": _("Game voucher"),
    "PAKETSMS": _("SMS package"),
    "PAKETTELPON": _("Call package"),
}
# A sub-type that only repeats the type ("Pulsa Reguler" under pulsa-reguler) is left out.
_REPEATS = {"PULSAREGULER", "PULSA", "SALDO", "EMONEY", "DATA"}
_GENERIC_OTP = {"OTP", "OTPNUMBER", "VIRTUALNUMBER", ""}
_WORD = re.compile(r"[A-Za-z0-9]+")


def _key(text: str) -> str:
    return "".join(_WORD.findall(text)).upper()


@dataclass(frozen=True)
class CategoryLabel:
    group: str  # operator / platform: "Telkomsel", "Instagram" ("" when the category says nothing)
    detail: str  # what kind of product: "Pulsa", "Data package · Flash"
    brand: Brand | None

    @property
    def text(self) -> str:
        return " · ".join(part for part in (self.group, self.detail) if part)


def brand_of(text: str) -> Brand | None:
    """The brand a text names, as a whole word ("Instagram Followers [Real]" -> Instagram)."""
    words = [word.upper() for word in _WORD.findall(text)]
    for word in words:
        if word in _BY_KEY and (word != "X" or len(words) == 1):  # a lone "X" is Twitter, "XL" is not
            return _BY_KEY[word]
    joined = "".join(words)
    return _BY_KEY.get(joined)


def _humanize(code: str) -> str:
    text = re.sub(r"[-_]+", " ", code).strip()
    return text[:1].upper() + text[1:] if text.islower() else text


def _prepaid(category: str) -> CategoryLabel:
    parts = [part.strip() for part in category.split("/") if part.strip()]
    kind = next((part for part in parts if _key(part) in _TYPES), None)  # "token-pln" is a type, naming PLN
    brand = next((b for part in parts if (b := brand_of(part)) is not None), None)
    details = [str(_TYPES[_key(kind)])] if kind else []
    for part in parts:
        if part is kind or _key(part) in _REPEATS or _key(part) in _TYPES:
            continue
        if brand is None or brand_of(part) != brand:
            details.append(_humanize(part))
    group = brand.name if brand else ""
    if not group and details:
        group, details = details[0], details[1:]
    return CategoryLabel(group, " · ".join(details), brand)


def category_label(kind: str, category: str) -> CategoryLabel:
    """How a reseller reads a service's category."""
    category = (category or "").strip()
    if kind == ProductKind.PREPAID:
        return _prepaid(category)
    if kind == ProductKind.OTP and _key(category) in _GENERIC_OTP:
        return CategoryLabel("", "", None)  # every OTP service is "OTP": the tab already says so
    brand = brand_of(category)
    if brand is None:
        return CategoryLabel(category, "", None)
    detail = " ".join(word for word in category.split() if brand_of(word) != brand).strip(" -·/:|")
    return CategoryLabel(brand.name, detail, brand)


@dataclass
class Group:
    """Consecutive catalogue rows of one category, under its human name."""

    label: CategoryLabel
    items: list[Any] = field(default_factory=list)


def grouped(items: Iterable[Any]) -> list[Group]:
    """Rows (anything with a `.service`) in catalogue order, cut into groups where the category changes;
    each row gets `.brand` (its own app's or its category's) for the badge."""
    groups: list[Group] = []
    last: tuple[str, str] | None = None
    for item in items:
        service = item.service
        key = (service.kind, service.category)
        if key != last:
            groups.append(Group(category_label(service.kind, service.category)))
            last = key
        item.brand = brand_of(service.name) or groups[-1].label.brand
        groups[-1].items.append(item)
    return groups


def category_choices(categories: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(raw category, human name) options from (kind, raw category) pairs, sorted by the name so one
    operator's products sit together; a category that names nothing (every OTP service's "OTP") is left out."""
    named = {(category, category_label(kind, category).text) for kind, category in categories if category}
    return sorted(((raw, text) for raw, text in named if text), key=lambda pair: (pair[1].lower(), pair[0]))
