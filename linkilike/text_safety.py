"""Names that travel into email headers and plain-text mail: refuse control characters, flatten subjects.

A brand or campaign name ends up in email subjects. A line break there fails the send with
``BadHeaderError`` (or, with a mailer that does not check, starts a new header); a line break in a
plain-text body lets a name pose as a paragraph of our own. Tabs and bidirectional overrides serve the
same disguise. Names are refused at input (``validate_no_control_characters`` in forms, serializers
and services); ``single_line`` flattens whatever still reaches a subject, e.g. names stored before
the check existed.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CONTROL_CHARACTERS_MESSAGE = _("Names cannot contain line breaks, tabs or other control characters.")

# Cc: C0/C1 controls (CR, LF, TAB, NUL, DEL, NEL ...); Zl/Zp: the Unicode line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# The bidirectional embeddings, overrides and isolates: they reorder how the text around them reads
# ("Trojan Source"). Other format characters (the zero-width joiner inside emoji) stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control_character(character: str) -> bool:
    return character in _BIDI_CONTROLS or unicodedata.category(character) in _CONTROL_CATEGORIES


def has_control_characters(value: str) -> bool:
    return any(is_control_character(character) for character in value)


def validate_no_control_characters(value: str) -> None:
    """Django validator (forms; DRF serializers turn it into a 400 as well)."""
    if has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTERS_MESSAGE, code="control_characters")


def single_line(value: str) -> str:
    """``value`` on one line: bidirectional controls dropped, other control characters and runs of
    white space (line breaks included) made one space."""
    spaced = "".join(
        "" if character in _BIDI_CONTROLS else " " if is_control_character(character) else character
        for character in value
    )
    return " ".join(spaced.split())
