"""SMS arithmetic: segment counting (GSM-7 vs UCS-2) and Indonesian number normalization. Pure functions."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# GSM 03.38 basic set; the extension set costs two septets each.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")
MAX_MESSAGE_CHARS = 480  # RajaSMS limit per message
MAX_RECIPIENTS = 1000
_NUMBER_NOISE = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"^628[1-9]\d{6,11}$")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def count_segments(message: str) -> Segments:
    """160 GSM-7 characters in one SMS, 153 per part when longer; any other character switches the
    whole message to UCS-2: 70 in one, 67 per part."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in message):
        length = sum(2 if ch in GSM_EXTENDED else 1 for ch in message)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        length = len(message.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if length == 0:
        return Segments(encoding, 0, 0)
    return Segments(encoding, length, 1 if length <= single else math.ceil(length / part))


def count_per_160(message: str) -> Segments:
    """The masking HTTP gateway's billing rule (provider-docs 003): one SMS per 160 characters, counted as
    characters whatever the alphabet ("jika lebih dari 160 karakter akan terhitung menjadi 2 sms")."""
    length = len(message)
    encoding = "GSM-7" if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in message) else "UCS-2"
    return Segments(encoding, length, math.ceil(length / 160))


def normalize_number(raw: str) -> str | None:
    """0812..., +62812..., 62812..., 812... -> 62812...; None when it is not an Indonesian mobile number."""
    digits = _NUMBER_NOISE.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    return digits if _MOBILE.match(digits) else None


@dataclass(frozen=True)
class Recipients:
    valid: tuple[str, ...]
    invalid: tuple[str, ...]  # as the reseller typed them
    duplicates: int


def parse_recipients(text: str | list[str]) -> Recipients:
    """Split on newlines, commas, semicolons or spaces; normalize; drop duplicates (keeping order)."""
    items = text if isinstance(text, list) else re.split(r"[\n,;\t ]+", text or "")
    valid: dict[str, None] = {}
    invalid: list[str] = []
    duplicates = 0
    for item in (i.strip() for i in items):
        if not item:
            continue
        number = normalize_number(item)
        if number is None:
            invalid.append(item[:40])
        elif number in valid:
            duplicates += 1
        else:
            valid[number] = None
    return Recipients(tuple(valid), tuple(invalid), duplicates)
