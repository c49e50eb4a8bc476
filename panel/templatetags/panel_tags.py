from __future__ import annotations

from decimal import Decimal

from django import template

from accounts.money import format_count, format_rupiah

register = template.Library()


@register.filter
def rupiah(value: Decimal | int | None) -> str:
    """{{ amount|rupiah }} -> Rp 15.000"""
    try:
        return format_rupiah(value)
    except ValueError:
        return "-"


@register.filter
def count(value: int | None) -> str:
    """{{ n|count }} -> 1.000 (Indonesian) / 1,000 (English)"""
    try:
        return format_count(value)
    except (TypeError, ValueError):
        return "-"
