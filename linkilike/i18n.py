"""Small helpers for text that must read well in every shipped language."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import get_language

# Languages that write common nouns in lower case inside a sentence. German capitalises nouns
# ("Entwurf", "In Prüfung"), so a status or topic label stays as its translation writes it.
_LOWERCASE_IN_SENTENCE = {"en"}


def label_in_sentence(label: str | Promise) -> str:
    """A choice label (status, topic) as it should appear inside a sentence of the active language."""
    text = str(label)
    language = (get_language() or "en").split("-")[0]
    return text.lower() if language in _LOWERCASE_IN_SENTENCE else text
