"""Formatting and parsing of integer minor units. Arithmetic on money never uses floats."""

from __future__ import annotations

import re

# The one money format of the app lives with the other language helpers (campaign pages use it too).
from linkilike.i18n import money_format

__all__ = ["money_decimal_string", "money_format", "money_parse"]

_AMOUNT = re.compile(r"^\s*(\d{1,12})(?:[.,](\d{1,2}))?\s*$")


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
