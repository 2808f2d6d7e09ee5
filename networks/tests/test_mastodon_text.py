"""A status's length as a Mastodon server counts it (its StatusLengthValidator): grapheme clusters, every
link 23 characters by the server's own URL rules, a remote mention only as ``@user``."""

from __future__ import annotations

import pytest

from networks.providers.mastodon_text import status_length

LINK = 23

CASES = [
    # (what, text, length)
    ("plain ASCII", "hello", 5),
    ("accents made of combining marks are one character each", "Cafe\u0301 Ü", 6),
    (
        "a family emoji (joined by zero-width joiners) is one",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
        1,
    ),
    ("a flag (two regional indicators) is one", "\U0001f1e9\U0001f1ea", 1),
    ("a skin-toned thumb is one", "\U0001f44d\U0001f3fd", 1),
    ("a link counts 23 however long", "https://example.com/" + "a" * 200, LINK),
    ("a short link counts 23 too", "http://t.co", LINK),
    ("a full stop after a link is not part of it", "see https://example.com/autumn.", 4 + LINK + 1),
    ("a closing parenthesis after a link is not part of it", "(https://example.com/autumn)", 1 + LINK + 1),
    ("balanced parentheses inside a link are", "https://en.wikipedia.org/wiki/Bread_(food)", LINK),
    ("a comma and a colon after a link are not", "https://example.com/a, https://example.com/b:", LINK + 2 + LINK + 1),
    ("a query string belongs to the link", "https://example.com/p?utm_source=linkilike&x=1", LINK),
    ("a query ending in a full stop", "https://example.com/p?x=1.", LINK + 1),
    ("a port belongs to the link", "https://example.com:8443/x", LINK),
    ("a link needs its scheme", "example.com/autumn", 18),
    ("other schemes are text", "ftp://example.com/file", 22),
    ("a link glued to a word is text", "xhttps://example.com", 20),
    ("a remote mention counts as its user part", "@lena@mastodon.social hi", 8),
    ("a local mention counts as written", "@lena hi", 8),
    ("an address glued to a word is not a mention", "mail lena@example.com", 21),
    (
        "links, mentions and emoji together",
        "Hi @lena@example.social \U0001f44b https://example.com/x.",
        3 + 5 + 1 + 1 + 1 + LINK + 1,
    ),
    ("line breaks count", "a\nb\n\nc", 6),
]


@pytest.mark.parametrize(("what", "text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_status_length_counts_as_the_server_does(what: str, text: str, expected: int) -> None:
    assert status_length(text) == expected, what


def test_empty_text_is_zero() -> None:
    assert status_length("") == 0
