"""Plain, frozen values that cross the provider boundary. No Django models in here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.utils.functional import Promise


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth client (for Mastodon: the app registered on one instance)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str = ""
    scopes: str = ""


@dataclass(frozen=True)
class AuthStart:
    """What ``begin_auth`` returns: send the person to ``authorization_url``; keep the rest server-side."""

    authorization_url: str
    state: str
    code_verifier: str = field(repr=False)


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_at: datetime | None = None
    scope: str = ""
    token_type: str = "Bearer"  # noqa: S105 - a token type name, not a secret


@dataclass(frozen=True)
class AccountRef:
    """The person's account as the network describes it."""

    external_id: str
    handle: str
    display_name: str = ""
    profile_url: str = ""
    avatar_url: str = ""
    followers_count: int | None = None


@dataclass(frozen=True)
class MediaItem:
    content: bytes = field(repr=False)
    filename: str
    content_type: str
    description: str = ""
    #: An address of exactly these bytes, valid long enough for networks that fetch media themselves
    #: (Instagram, Threads) to fetch it.
    url: str = ""


@dataclass(frozen=True)
class PostDraft:
    text: str
    #: The campaign link. Networks whose client builds the link card (``LinkHandling.CARD``) also get its
    #: title and description; their card shows the first of ``media`` as its thumbnail.
    link: str = ""
    media: tuple[MediaItem, ...] = ()
    visibility: str = "public"
    link_title: str = ""
    link_description: str = ""
    #: Ids the network already holds for ``media`` (same order), uploaded by an earlier attempt of this post
    #: (``NetworkProvider.upload_media``): used instead of uploading the files again.
    media_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstanceInfo:
    """What a server a person named says about itself (Mastodon: ``/api/v2/instance``). None: not said."""

    #: The domain in its accounts' handles (may differ from the host serving the API).
    domain: str
    version: str = ""
    max_characters: int | None = None
    max_media_attachments: int | None = None
    image_size_limit: int | None = None
    video_size_limit: int | None = None
    supported_mime_types: tuple[str, ...] = ()


class PublishState(StrEnum):
    PUBLISHED = "published"
    PENDING = "pending"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class PublishResult:
    state: PublishState
    external_id: str = ""
    url: str = ""
    published_at: datetime | None = None


@dataclass(frozen=True)
class MetricsSnapshot:
    """Counts for one post at one moment. ``None`` means the network does not report it (never 0).

    ``exists=False`` only when the post is confirmed gone at its source. A read that could not give the
    counts of a post that is (or may still be) there sets ``unknown_reason`` instead: nothing is stored
    or booked for it, it is asked again later.
    """

    external_id: str
    fetched_at: datetime
    likes: int | None = None
    shares: int | None = None
    replies: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    reach: int | None = None
    impressions: int | None = None
    clicks: int | None = None
    exists: bool = True
    unknown_reason: str = ""
    #: The post's own author's part of the counts above (her like, repost, bookmark; her replies and quotes).
    #: ``None``: not revealed (the network cannot tell, or it was not asked), so nothing is left out.
    own_likes: int | None = None
    own_shares: int | None = None
    own_replies: int | None = None
    own_quotes: int | None = None
    own_bookmarks: int | None = None
    #: Accounts the reads named as having engaged (repliers, quoters; likers and reposters from
    #: ``NetworkProvider.fetch_engagers``), for the check against other influencers' accounts.
    engagers: tuple[AccountRef, ...] = ()

    @property
    def counts_known(self) -> bool:
        return self.exists and not self.unknown_reason

    @property
    def own_total(self) -> int | None:
        """Engagement by the author's own account, as far as revealed (None: nothing revealed)."""
        own = (self.own_likes, self.own_shares, self.own_replies, self.own_quotes, self.own_bookmarks)
        revealed = [value for value in own if value is not None]
        return sum(revealed) if revealed else None


@dataclass(frozen=True)
class RateLimitInfo:
    limit: int | None
    remaining: int | None
    reset_at: datetime | None


class MetricsAccess(StrEnum):
    """Whose credentials a metrics read needs, which decides what one batch may hold."""

    ACCOUNT = "account"  # the account's own token: a batch holds posts of one account only
    APP = "app"  # a public or app-level read: one batch may hold posts of many accounts


class Reveal(StrEnum):
    """How far a network lets Linkilike tell the author's own engagement apart (the capability matrix row)."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class LinkHandling(StrEnum):
    IN_TEXT = "in_text"  # the URL goes into the text; the network builds the card
    CARD = "card"  # the client builds an embed/card (Bluesky)
    NOT_CLICKABLE = "not_clickable"  # Instagram captions


@dataclass(frozen=True)
class Capabilities:
    max_chars: int
    max_images: int
    video: bool
    link_handling: LinkHandling
    reach_reported: bool
    metrics_batch_size: int
    api_posting_allowed: bool = True
    cost_per_post_minor: int = 0
    cost_currency: str = "USD"
    token_refresh: bool = False
    max_image_bytes: int | None = None
    #: MetricsSnapshot fields the network reports (the others are always None).
    metrics: tuple[str, ...] = ()
    #: A post must carry an image (Instagram).
    image_required: bool = False
    #: Media are fetched by the network from ``MediaItem.url`` (a time-limited address of the copy made for
    #: it), not uploaded.
    media_by_url: bool = False
    #: Image types the network takes (empty: any); an image of another type goes out as a JPEG copy.
    image_types: frozenset[str] = frozenset()
    #: Publishing needs permissions that the network grants only after reviewing Linkilike's app.
    needs_app_review: bool = False
    #: Plain-language conditions on the account or app (for staff and the capability matrix).
    requirements: str = ""
    #: APP: ``fetch_metrics_app`` reads any account's posts, so batches are filled across accounts.
    metrics_access: MetricsAccess = MetricsAccess.ACCOUNT
    #: The network's limit on metric reads as (requests, seconds): per app for APP access, per account
    #: otherwise. None: no documented limit worth pacing for.
    metrics_rate_limit: tuple[int, float] | None = None
    #: Metric requests Linkilike keeps in flight at once towards this network (a polite-client choice).
    metrics_concurrency: int = 1
    #: Whether the author's own engagement is left out before pay, and which of ``metrics`` it covers.
    own_engagement: Reveal = Reveal.NO
    own_engagement_metrics: tuple[str, ...] = ()
    #: Which engagements ``NetworkProvider.fetch_engagers`` and the metric reads name the accounts of (for
    #: holding a share another influencer of the same campaign engaged with).
    engagers_named: tuple[str, ...] = ()


@dataclass(frozen=True)
class DisplayFacts:
    """What the pages say about a network beyond its ``Capabilities`` (each provider class declares its own)."""

    #: The network's name as people know it (also the label of ``ConnectedAccount.network``).
    label: Promise | str
    #: One line for brands and influencers: what is counted, what the network requires.
    note: Promise | str = ""
    #: How links count towards the caption length: ``None`` = their full length, N = always N characters.
    link_chars: int | None = None
    #: Characters are counted as graphemes (user-perceived characters), not code points.
    counts_graphemes: bool = False
    max_hashtags: int | None = None
    #: The caption has no practical length limit worth showing (``Capabilities.max_chars`` is a technical cap).
    unlimited_text: bool = False
    #: What connecting needs and what to expect (the connect page).
    connect_needs: Promise | str = ""
    connect_note: Promise | str = ""


@dataclass(frozen=True)
class NetworkInfo:
    """A network's caption and targeting facts as the pages use them, built by the registry from the provider
    class: its ``DisplayFacts`` plus what its ``Capabilities`` say (so the two cannot disagree)."""

    code: str
    label: Promise | str
    #: Maximum caption length; ``None`` = no practical limit.
    max_chars: int | None
    link_chars: int | None
    counts_graphemes: bool
    links_clickable: bool
    #: A figure CPM is paid on (unique reach, impressions or views).
    reports_reach: bool
    needs_media: bool
    max_hashtags: int | None
    note: Promise | str
    #: "You post, we verify": Linkilike may not post there, so it reads none of the network's counts. Only the
    #: participation fee and the clicks Linkilike measures on the tracking link can be paid (no reach, no
    #: engagement).
    proof_of_post: bool = False
