"""Formatting and parsing of integer minor units. Arithmetic on money never uses floats."""

from __future__ import annotations

import re

from django.utils.formats import number_format

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF "}
_AMOUNT = re.compile(r"^\s*(\d{1,12})(?:[.,](\d{1,2}))?\s*$")


def money_format(amount_minor: int, currency: str) -> str:
    """1234567, "EUR" -> "€12,345.67" (localised separators)."""
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    whole = number_format(units, decimal_pos=0, force_grouping=True)
    decimal_sep = number_format(1.5, decimal_pos=1)[1]
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{whole}{decimal_sep}{cents:02d}"


def money_decimal_string(amount_minor: int) -> str:
    """1234 -> "12.34": the form provider APIs and pain.001 expect."""
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{units}.{cents:02d}"


def money_parse(text: str) -> int | None:
    """ "12.3" / "12,30" / "12" -> minor units; None when it is not a plain positive amount."""
    match = _AMOUNT.match(text or "")
    if not match:
        return None
    units, cents = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(units) * 100 + int(cents)
