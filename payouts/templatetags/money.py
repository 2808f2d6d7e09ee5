from __future__ import annotations

from django import template

from payouts.money import money_format

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str = "EUR") -> str:
    """{{ amount_minor|money:"EUR" }} -> "€12.34"."""
    return money_format(int(amount_minor or 0), currency or "EUR")
