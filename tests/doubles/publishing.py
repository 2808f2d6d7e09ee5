"""A recording test double of a network, and a READY share to publish with it (tests and drills only).

``RecordingProvider`` keeps every post it received in ``RecordingProvider.network`` (class-level,
because the registry builds a new provider per call). Like Mastodon it honours idempotency keys:
the same key within the window answers the existing post instead of creating another, so a
duplicate on the "network" only happens if the pipeline posts blindly with a new key.
Hooks let a test make the next call raise, crash before or after the network saw it, or answer
a container (``PENDING``) first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import requests

from brands.models import Brand
from campaigns.captions import TRACKING_LINK_PLACEHOLDER, caption_compose
from campaigns.models import Campaign, Offer, Share, ShareStatus
from networks.models import ConnectedAccount
from networks.providers.base import NetworkProvider
from networks.providers.exceptions import NetworkError, NotSupported
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    LinkHandling,
    MediaItem,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    TokenSet,
)
from tests.factories.campaigns import CampaignFactory, CaptionVariantFactory, ContentPieceFactory, OfferFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

RECORDING_NETWORK = "recording"
RECORDING_URL = "https://recording.example"


class SimulatedCrash(BaseException):
    """The worker process dies here (BaseException: no ``except Exception`` catches it)."""


@dataclass
class RecordedPost:
    external_id: str
    text: str
    idempotency_key: str
    media: tuple[MediaItem, ...] = ()
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    reach: int | None = None
    deleted: bool = False


@dataclass
class RecordingNetwork:
    posts: list[RecordedPost] = field(default_factory=list)
    publish_calls: int = 0
    check_calls: int = 0
    metrics_calls: list[list[str]] = field(default_factory=list)
    #: Raised by the next ``publish`` before the network records anything.
    fail_before: list[BaseException] = field(default_factory=list)
    #: Raised by the next ``publish`` after the network recorded the post.
    fail_after: list[BaseException] = field(default_factory=list)
    refreshes: int = 0
    refresh_result: TokenSet | None = None
    #: False: every publish that reaches the network makes a post, even with a key seen before
    #: (networks without idempotency keys). Any blind re-post then shows as a duplicate.
    dedupe_by_key: bool = True

    def live_posts(self) -> list[RecordedPost]:
        return [post for post in self.posts if not post.deleted]

    def by_key(self, key: str) -> RecordedPost | None:
        return next((post for post in self.posts if post.idempotency_key == key), None)


class RecordingProvider(NetworkProvider):
    network = RECORDING_NETWORK
    capabilities = Capabilities(
        max_chars=5000,
        max_images=4,
        video=False,
        link_handling=LinkHandling.IN_TEXT,
        reach_reported=True,
        metrics_batch_size=3,
        metrics=("likes", "shares", "replies", "reach"),
        token_refresh=True,
    )
    idempotency_window: ClassVar[timedelta] = timedelta(hours=1)
    #: Its posts exist before any answer is lost, so a look-up right away is exact: these tests drive what follows
    #: the look-up; the wait before it is shown against the late-landing doubles (test_publishing_settle.py).
    ambiguous_settle: ClassVar[timedelta] = timedelta(0)
    state: ClassVar[RecordingNetwork] = RecordingNetwork()
    last_rate_limit: RateLimitInfo | None = None

    @classmethod
    def reset(cls) -> RecordingNetwork:
        cls.state = RecordingNetwork()
        return cls.state

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        raise NotSupported("test double")

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        raise NotSupported("test double")

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        self.state.refreshes += 1
        if self.state.refresh_result is None:
            raise NotSupported("no refresh configured")
        return self.state.refresh_result

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        return AccountRef(external_id="1", handle="@rec")

    def validate_draft(self, draft: PostDraft) -> list[str]:
        return [] if len(draft.text) <= self.capabilities.max_chars else ["too long"]

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        self.state.publish_calls += 1
        if self.state.fail_before:
            raise self.state.fail_before.pop(0)
        existing = self.state.by_key(idempotency_key) if self.state.dedupe_by_key else None
        post = existing or self._record(draft, idempotency_key)
        if self.state.fail_after:
            raise self.state.fail_after.pop(0)
        return self._result(post)

    def _record(self, draft: PostDraft, idempotency_key: str) -> RecordedPost:
        post = RecordedPost(
            external_id=str(len(self.state.posts) + 1),
            text=draft.text,
            idempotency_key=idempotency_key,
            media=draft.media,
        )
        self.state.posts.append(post)
        return post

    def _result(self, post: RecordedPost) -> PublishResult:
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=post.external_id,
            url=f"{RECORDING_URL}/posts/{post.external_id}",
            published_at=datetime.now(UTC),
        )

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Looks the key up; never posts (stricter than Mastodon, so tests see every real post)."""
        self.state.check_calls += 1
        post = self.state.by_key(idempotency_key)
        return self._result(post) if post else PublishResult(state=PublishState.NOT_FOUND)

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        if len(external_ids) > self.capabilities.metrics_batch_size:
            raise ValueError("more ids than the batch size")
        self.state.metrics_calls.append(list(external_ids))
        now = datetime.now(UTC)
        snapshots = []
        for external_id in external_ids:
            post = next((p for p in self.state.posts if p.external_id == external_id), None)
            if post is None or post.deleted:
                snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, exists=False))
                continue
            snapshots.append(
                MetricsSnapshot(
                    external_id=external_id,
                    fetched_at=now,
                    likes=post.likes,
                    shares=post.reposts,
                    replies=post.replies,
                    reach=post.reach,
                )
            )
        return snapshots

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        for post in self.state.posts:
            if post.external_id == external_id:
                post.deleted = True

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        return None

    def classify_error(self, response: requests.Response) -> NetworkError:
        return NetworkError(str(response.status_code))


class ProofOnlyProvider(RecordingProvider):
    """A network Linkilike may not post to: influencers post themselves and paste the link."""

    network = "proofonly"
    capabilities = Capabilities(
        max_chars=3000,
        max_images=1,
        video=False,
        link_handling=LinkHandling.IN_TEXT,
        reach_reported=False,
        metrics_batch_size=1,
        api_posting_allowed=False,
    )


class ByUrlProvider(RecordingProvider):
    """A network that fetches images from a URL (like Instagram), takes JPEG only and needs one per post."""

    network = "byurl"
    capabilities = Capabilities(
        max_chars=2200,
        max_images=1,
        video=False,
        link_handling=LinkHandling.NOT_CLICKABLE,
        reach_reported=True,
        metrics_batch_size=3,
        max_image_bytes=8 * 1024 * 1024,
        image_required=True,
        media_by_url=True,
        image_types=frozenset({"image/jpeg"}),
    )


class SmallImagesProvider(RecordingProvider):
    """A network with a tight image byte limit (Bluesky-like, scaled down so tests stay fast)."""

    network = "smallimages"
    capabilities = Capabilities(
        max_chars=300,
        max_images=4,
        video=False,
        link_handling=LinkHandling.CARD,
        reach_reported=False,
        metrics_batch_size=25,
        max_image_bytes=40_000,
    )


def recording_settings(settings: Any) -> None:
    """Register the doubles in ``settings.NETWORK_PROVIDERS`` (pytest-django ``settings`` fixture)."""
    settings.NETWORK_PROVIDERS = {
        **settings.NETWORK_PROVIDERS,
        RECORDING_NETWORK: {"class": "tests.doubles.publishing.RecordingProvider", "base_url": RECORDING_URL},
        "proofonly": {"class": "tests.doubles.publishing.ProofOnlyProvider", "base_url": "https://proof.example"},
        "byurl": {"class": "tests.doubles.publishing.ByUrlProvider", "base_url": "https://byurl.example"},
        "smallimages": {
            "class": "tests.doubles.publishing.SmallImagesProvider",
            "base_url": "https://small.example",
        },
    }


def ready_share(
    *,
    account: ConnectedAccount | None = None,
    network: str = RECORDING_NETWORK,
    instance_url: str = RECORDING_URL,
    campaign: Campaign | None = None,
    caption: str = "Our new roast is here",
    scheduled_at: datetime | None = None,
    **account_fields: Any,
) -> Share:
    """A READY share of an approved, priced campaign, with the brand's caption (disclosure + link placeholder)."""
    if campaign is None:
        campaign = cast(
            Campaign,
            CampaignFactory(
                status="approved",
                disclosures={"en": "#ad"},
                languages=["en"],
                cpm_minor=2000,
                cpe_minor=10,
                cpc_minor=0,
            ),
        )
        content = ContentPieceFactory(campaign=campaign, target_url="https://shop.example/roast")
        CaptionVariantFactory(content=content, text=caption, language="en")
    if account is None:
        influencer = InfluencerProfileFactory()
        account = cast(
            ConnectedAccount,
            ConnectedAccountFactory(
                influencer=influencer, network=network, instance_url=instance_url, **account_fields
            ),
        )
    offer = cast(
        Offer,
        OfferFactory(
            campaign=campaign,
            influencer=account.influencer,
            match__campaign=campaign,
            match__influencer=account.influencer,
        ),
    )
    return Share.objects.create(
        offer=offer,
        campaign=campaign,
        influencer=account.influencer,
        connected_account=account,
        caption_text=caption_compose(text=caption, disclosure="#ad", link=TRACKING_LINK_PLACEHOLDER),
        status=ShareStatus.READY,
        scheduled_at=scheduled_at,
    )


def funded_campaign(*, budget_minor: int = 100_000, demo: bool = False, **fields: Any) -> Campaign:
    """An approved campaign with its budget funded and reserved, so metrics earn money.

    ``demo=True`` makes its brand a demo brand, which a share to a sandbox account needs.
    """
    from campaigns.earnings.budget import campaign_budget_reserve
    from payouts.services.ledger import brand_fund
    from tests.factories.brands import BrandFactory

    brand = cast(Brand, BrandFactory(demo=demo))
    brand_fund(
        brand=brand, amount_minor=budget_minor * 2, currency="EUR", source="bank_transfer", reference=f"T-{brand.pk}"
    )
    defaults: dict[str, Any] = {
        "status": "approved",
        "disclosures": {"en": "#ad"},
        "languages": ["en"],
        "cpm_minor": 2000,
        "cpe_minor": 10,
        "cpc_minor": 0,
    }
    campaign = cast(Campaign, CampaignFactory(brand=brand, budget_minor=budget_minor, **{**defaults, **fields}))
    content = ContentPieceFactory(campaign=campaign, target_url="https://shop.example/roast")
    CaptionVariantFactory(content=content, text="Our new roast is here", language="en")
    campaign_budget_reserve(campaign=campaign)
    return campaign
