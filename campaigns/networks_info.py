"""What each network allows in a post, from each network's public documentation (late 2026).

Used by the per-network caption preview, the targeting choices and the offer estimate. The facts it
shares with the publishing adapters' ``Capabilities`` (caption length, clickable links, required
media, a figure CPM is paid on) are checked against them by ``campaigns/tests/test_networks_info.py``;
the rest (labels, how links count, graphemes, notes) only the pages need.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NetworkInfo:
    code: str
    label: str
    #: Maximum caption length; ``None`` = no practical limit.
    max_chars: int | None
    #: How links count towards ``max_chars``: ``None`` = their full length, N = always N characters.
    link_chars: int | None
    #: Characters are counted as graphemes (user-perceived characters), not code points.
    counts_graphemes: bool
    links_clickable: bool
    reports_reach: bool
    needs_media: bool
    max_hashtags: int | None
    note: Promise | str


NETWORKS: dict[str, NetworkInfo] = {
    info.code: info
    for info in (
        NetworkInfo(
            code="mastodon",
            label="Mastodon",
            max_chars=500,
            link_chars=23,
            counts_graphemes=False,
            links_clickable=True,
            reports_reach=False,
            needs_media=False,
            max_hashtags=None,
            note=_("Engagement only, no reach. Links count as 23 characters."),
        ),
        NetworkInfo(
            code="bluesky",
            label="Bluesky",
            max_chars=300,
            link_chars=None,
            counts_graphemes=True,
            links_clickable=True,
            reports_reach=False,
            needs_media=False,
            max_hashtags=None,
            note=_("Engagement only, no reach. 300 characters (graphemes); images up to 1 MB each."),
        ),
        NetworkInfo(
            code="x",
            label="X",
            max_chars=280,
            link_chars=23,
            counts_graphemes=False,
            links_clickable=True,
            reports_reach=True,
            needs_media=False,
            max_hashtags=None,
            note=_(
                "Reports impressions. Links count as 23 characters. X charges per post, more for posts with a link."
            ),
        ),
        NetworkInfo(
            code="instagram",
            label="Instagram",
            max_chars=2200,
            link_chars=None,
            counts_graphemes=False,
            links_clickable=False,
            reports_reach=True,
            needs_media=True,
            max_hashtags=30,
            note=_(
                "Reports reach. Business or creator accounts only; needs an image or video; links are not clickable."
            ),
        ),
        NetworkInfo(
            code="threads",
            label="Threads",
            max_chars=500,
            link_chars=None,
            counts_graphemes=False,
            links_clickable=True,
            reports_reach=True,
            needs_media=False,
            max_hashtags=None,
            note=_("Reports views."),
        ),
        NetworkInfo(
            code="facebook",
            label="Facebook",
            max_chars=63206,
            link_chars=None,
            counts_graphemes=False,
            links_clickable=True,
            reports_reach=True,
            needs_media=False,
            max_hashtags=None,
            note=_("Pages only (apps cannot post to personal profiles); reports unique views."),
        ),
        NetworkInfo(
            code="linkedin",
            label="LinkedIn",
            max_chars=3000,
            link_chars=None,
            counts_graphemes=False,
            links_clickable=True,
            reports_reach=False,
            needs_media=False,
            max_hashtags=None,
            note=_("Reach figures need a gated LinkedIn permission; engagement and clicks are counted."),
        ),
        NetworkInfo(
            code="tumblr",
            label="Tumblr",
            max_chars=None,
            link_chars=None,
            counts_graphemes=False,
            links_clickable=True,
            reports_reach=False,
            needs_media=False,
            max_hashtags=None,
            note=_("Engagement only (notes), no reach."),
        ),
    )
}

NETWORK_CHOICES: list[tuple[str, str]] = [(code, info.label) for code, info in NETWORKS.items()]
