from __future__ import annotations

from decimal import Decimal

from django import template

from accounts.money import format_rupiah

register = template.Library()


@register.filter
def rupiah(value: Decimal | int | None) -> str:
    """{{ amount|rupiah }} -> Rp 15.000"""
    try:
        return format_rupiah(value)
    except ValueError:
        return "-"
