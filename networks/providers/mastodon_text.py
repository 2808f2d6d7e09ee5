"""How a Mastodon server counts a status's length, so a draft is judged as the server will judge it.

Facts from the server's code (app/validators/status_length_validator.rb, app/lib/extractor.rb,
config/initializers/twitter_regex.rb, app/models/account.rb; the twitter-text gem it extends):

- The length is the number of grapheme clusters (``each_grapheme_cluster``): a family emoji joined by
  zero-width joiners, a flag or a letter with combining accents is one character.
- Every link counts ``characters_reserved_per_url`` (23) characters, whatever its length, but only links
  the server's extractor recognises: with a scheme (``http``, ``https`` and a few others), not glued to a
  letter, digit, ``@``, ``$`` or ``#`` before it, on a domain with a top-level domain. Trailing punctuation
  (``.``, ``,``, ``:``, ``!``, ``)`` without its ``(``...) is not part of a link; balanced parentheses are.
- A mention of an account on another server (``@user@example.social``) counts only as ``@user``.

One difference is known: the server recognises only top-level domains from twitter-text's list; here any
alphabetic top-level domain (or punycode) counts, so a link on a made-up domain (``brand.example``) counts 23
here and in full on the server.
"""

from __future__ import annotations

import regex

#: What the server counts for any link (``configuration.statuses.characters_reserved_per_url``).
URL_LENGTH = 23

# The pieces below follow twitter-text's rules as Mastodon overrides them; kept apart so each can be read.
_SCHEMES = r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
# Not a link when glued to a letter, digit, @, $ or # before it (twitter-text's "valid preceding chars").
_NOT_AFTER = r"(?<![A-Za-z0-9@\uff20$#\uff03])"
# A domain character is anything but punctuation, spaces and control characters.
_DOMAIN_CHAR = r"[^\p{P}\p{S}\p{White_Space}\p{Cc}]"
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
# Any alphabetic top-level domain or punycode (the server's list is narrower, see the module doc).
_TLD = r"(?:xn--[0-9a-z-]+|[^\W\d_]{2,})(?=[^0-9a-z@+-]|$)"
_DOMAIN = rf"{_SUBDOMAIN}*{_DOMAIN_NAME}{_TLD}"
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_BALANCED = rf"(?:\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\))"
# A path may not end in punctuation that usually closes a sentence or a quote.
_PATH_END = rf"(?:[^\p{{White_Space}}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{_BALANCED})"
_PATH = rf"(?:{_PATH_CHAR}*(?:{_BALANCED}{_PATH_CHAR}*)*{_PATH_END}|{_PATH_CHAR}+/)"
_UCHARS = (
    r"\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    r"\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    r"\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd"
    r"\U000e1000-\U000efffd\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_QUERY_CHAR = rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]"
_QUERY_END = rf"[a-z0-9_&=#/\-{_UCHARS}]"
URL_RE = regex.compile(
    rf"{_NOT_AFTER}{_SCHEMES}{_DOMAIN}(?::[0-9]+)?(?:/{_PATH}*)?(?:\?{_QUERY_CHAR}*{_QUERY_END})?",
    regex.IGNORECASE | regex.VERSION0,
)
# A mention: not after "=", "/" or a word character; a username, optionally "@" and a domain.
MENTION_RE = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    regex.IGNORECASE,
)
# A mention followed by another "@", an accented Latin letter or "://" is not one (twitter-text).
_MENTION_STOP = regex.compile(r"[@\uff20\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254]|://")
_GRAPHEME = regex.compile(r"\X")


def countable_text(text: str) -> str:
    """The text as the server measures it: links replaced by 23 characters, remote mentions by ``@user``."""
    entities: list[tuple[int, int, str]] = []
    for match in URL_RE.finditer(text):
        entities.append((match.start(), match.end(), "x" * URL_LENGTH))
    for match in MENTION_RE.finditer(text):
        if not _MENTION_STOP.match(text, match.end()):
            entities.append((match.start(), match.end(), f"@{match.group('user')}"))
    entities.sort()
    pieces: list[str] = []
    position = 0
    for start, end, replacement in entities:
        if start < position:
            continue  # overlapping entities: the one that starts first wins
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def status_length(text: str) -> int:
    """The length a Mastodon server gives ``text`` (without a content warning)."""
    if not text:
        return 0
    return len(_GRAPHEME.findall(countable_text(text)))
