"""Small helpers for text that must read well in every shipped language."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext

# Languages that write common nouns in lower case inside a sentence. German capitalises nouns
# ("Entwurf", "In Prüfung"), so a status or topic label stays as its translation writes it.
_LOWERCASE_IN_SENTENCE = {"en"}


def label_in_sentence(label: str | Promise) -> str:
    """A choice label (status, topic) as it should appear inside a sentence of the active language."""
    text = str(label)
    language = (get_language() or "en").split("-")[0]
    return text.lower() if language in _LOWERCASE_IN_SENTENCE else text


#: Currency signs; a currency without one is written with its ISO code ("PLN").
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}
#: Where the sign goes, per language: "€6.00" in English, "6,00 €" in German (DIN 5008). A no-break space
#: keeps amount and sign on one line on a phone.
_MONEY_PATTERNS = {"en": "{sign}{symbol}{amount}", "de": "{sign}{amount}\u00a0{symbol}"}


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency, currency)


def money_format(amount_minor: int, currency: str) -> str:
    """1234567, "EUR" -> "€12,345.67" in English, "12.345,67 €" in German: the one money format of the app.

    Integer minor units in, text out (no float ever touches the amount); separators come from the active
    language, the sign's place from ``_MONEY_PATTERNS``.
    """
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    whole = number_format(units, decimal_pos=0, force_grouping=True)
    decimal_sep = number_format(1.5, decimal_pos=1)[1]
    symbol = currency_symbol(currency)
    language = (get_language() or "en").split("-")[0]
    pattern = _MONEY_PATTERNS.get(language, _MONEY_PATTERNS["en"])
    if pattern.startswith("{sign}{symbol}") and symbol[-1:].isalpha():
        symbol += "\u00a0"  # "CHF 6.00", not "CHF6.00"
    return pattern.format(sign=sign, symbol=symbol, amount=f"{whole}{decimal_sep}{cents:02d}")


def and_list(items: Sequence[str]) -> str:
    """["Mastodon", "Bluesky", "X"] -> "Mastodon, Bluesky and X" ("Mastodon, Bluesky und X" in German)."""
    names = [str(item) for item in items]
    if len(names) < 2:
        return "".join(names)
    return gettext("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}
