"""Captions: disclosure by construction, tracking links, UTM parameters and the per-network fit check.

``caption_compose`` is the one place a caption is put together; influencer edits (later
issues) go through it too, so the disclosure and the link can never be removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from networks.providers.registry import network_info
from networks.providers.types import NetworkInfo

#: Disclosure tags a brand can choose from (the first per language is its default).
DISCLOSURE_CHOICES: list[tuple[str, Promise]] = [
    ("#ad", _("#ad (English)")),
    ("#sponsored", _("#sponsored (English)")),
    ("#Werbung", _("#Werbung (German)")),
    ("#Anzeige", _("#Anzeige (German)")),
    ("#publicité", _("#publicité (French)")),
    ("#sponsorisé", _("#sponsorisé (French)")),
    ("#pubblicità", _("#pubblicità (Italian)")),
    ("#publicidad", _("#publicidad (Spanish)")),
    ("#advertentie", _("#advertentie (Dutch)")),
    ("#reklama", _("#reklama (Polish, Czech)")),
    ("#publicidade", _("#publicidade (Portuguese)")),
    ("#hirdetés", _("#hirdetés (Hungarian)")),
    ("#reklam", _("#reklam (Swedish, Danish, Turkish)")),
]
DISCLOSURE_VALUES = frozenset(value for value, _label in DISCLOSURE_CHOICES)
DEFAULT_DISCLOSURE = {
    "en": "#ad",
    "de": "#Werbung",
    "fr": "#publicité",
    "it": "#pubblicità",
    "es": "#publicidad",
    "nl": "#advertentie",
    "pl": "#reklama",
    "pt": "#publicidade",
    "cs": "#reklama",
    "hu": "#hirdetés",
    "sv": "#reklam",
    "da": "#reklam",
    "tr": "#reklam",
}

#: Stands in for the per-share tracking link (one per share, created when it is published).
TRACKING_LINK_PLACEHOLDER = "https://linkilike.app/t/AbCdEf12"

UTM_DEFAULTS = (("utm_source", "linkilike"), ("utm_medium", "influencer"))
_URL_RE = re.compile(r"https?://\S+")
_HASHTAG_RE = re.compile(r"^#?[\w\-]+$", re.UNICODE)


def disclosure_for(*, disclosures: dict[str, str], language: str) -> str:
    return disclosures.get(language) or DEFAULT_DISCLOSURE.get(language, "#ad")


def hashtags_normalize(raw: str | Iterable[str]) -> list[str]:
    """``"coffee, #Linz  #morning"`` -> ``["#coffee", "#Linz", "#morning"]`` (deduplicated, order kept)."""
    parts = re.split(r"[\s,;]+", raw) if isinstance(raw, str) else list(raw)
    seen: set[str] = set()
    tags: list[str] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if not _HASHTAG_RE.match(part):
            raise ValueError(
                gettext("“%(tag)s” is not a hashtag: use letters, digits, - or _ only, without spaces.") % {"tag": part}
            )
        tag = "#" + part.lstrip("#")
        if tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


def _has_tag(text: str, tag: str) -> bool:
    return re.search(rf"(?<![\w#]){re.escape(tag)}(?!\w)", text, flags=re.IGNORECASE) is not None


def caption_compose(*, text: str, disclosure: str, link: str, hashtags: Sequence[str] = ()) -> str:
    """The caption as it is shared: disclosure first, then the text, the link and the hashtags.

    Whatever ``text`` holds (an influencer's edit included), the result starts with the
    disclosure and contains the link; hashtags already in the text are not repeated.
    """
    body = text.strip()
    if not body.lower().startswith(disclosure.lower()):
        body = f"{disclosure} {body}".strip()
    if link and link not in body:
        body = f"{body}\n\n{link}"
    tags = [tag for tag in hashtags if not _has_tag(body, tag)]
    if tags:
        body = f"{body}\n\n{' '.join(tags)}"
    return body


def utm_apply(*, url: str, campaign_slug: str) -> str:
    """Add the UTM parameters the link does not have yet; values the brand edited are kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _value in query}
    for key, value in (*UTM_DEFAULTS, ("utm_campaign", campaign_slug)):
        if key not in present:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class NetworkFit:
    network: NetworkInfo
    caption: str
    length: int
    fits: bool
    problems: list[str]
    warnings: list[str]


def caption_length(*, caption: str, network: NetworkInfo) -> int:
    """Length as the network counts it (links as a fixed width where the network does so)."""
    counted = caption
    if network.link_chars is not None:
        counted = _URL_RE.sub("x" * network.link_chars, caption)
    if network.counts_graphemes:
        return len(regex.findall(r"\X", counted))
    return len(counted)


def caption_fit(*, caption: str, network_code: str, has_media: bool, hashtag_count: int) -> NetworkFit:
    network = network_info(network_code)
    if network is None:
        raise KeyError(network_code)
    length = caption_length(caption=caption, network=network)
    problems: list[str] = []
    warnings: list[str] = []
    if network.max_chars is not None and length > network.max_chars:
        problems.append(
            gettext("Too long for %(network)s: %(length)s of %(max)s characters (%(over)s over).")
            % {"network": network.label, "length": length, "max": network.max_chars, "over": length - network.max_chars}
        )
    if network.needs_media and not has_media:
        problems.append(gettext("%(network)s needs an image or video.") % {"network": network.label})
    if network.max_hashtags is not None and hashtag_count > network.max_hashtags:
        problems.append(
            gettext("%(network)s allows at most %(max)s hashtags.")
            % {"network": network.label, "max": network.max_hashtags}
        )
    if not network.links_clickable:
        warnings.append(
            gettext("Links in %(network)s captions are not clickable; influencers add it to their bio or a story.")
            % {"network": network.label}
        )
    return NetworkFit(
        network=network, caption=caption, length=length, fits=not problems, problems=problems, warnings=warnings
    )
