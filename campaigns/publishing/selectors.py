"""Reads for showing a share's publishing state to the influencer, the brand and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from campaigns.matching.selectors import share_content
from campaigns.models import CaptionStatus, MetricSnapshot, PublicationState, Share, SharePublication, ShareStatus
from campaigns.publishing.proof import share_intent_url
from influencers.models import InfluencerProfile
from networks.providers.registry import handle_provider_class, network_label, provider_class

#: Badge tone per state (``badge-ok`` / ``badge-warn`` / ``badge-error`` in app.css).
STATE_TONES = {
    PublicationState.PUBLISHED: "ok",
    PublicationState.FAILED: "error",
    PublicationState.UNKNOWN: "warn",
    PublicationState.REMOVED: "error",
    PublicationState.NEEDS_PROOF: "warn",
    PublicationState.PROOF_REVIEW: "warn",
}

#: States in which a post is (or may be) out on the network: the influencer is sharing.
STATES_SHARING = frozenset(
    {
        PublicationState.PUBLISHING,
        PublicationState.PUBLISHED,
        PublicationState.UNKNOWN,
        PublicationState.PROOF_SUBMITTED,
        PublicationState.PROOF_REVIEW,
        PublicationState.REMOVED,
    }
)


@dataclass(frozen=True)
class ShareStateView:
    """What the share-state partial shows."""

    label: str
    tone: str
    state: str
    external_url: str = ""
    reason: str = ""
    retry_safe: bool = False
    intent_url: str = ""
    posted_text: str = ""
    needs_proof: bool = False
    proof_url: str = ""
    published_at: datetime | None = None
    #: The account must be reconnected before a retry can work.
    needs_reconnect: bool = False
    #: READY, not published yet: when it goes out (None: as soon as possible).
    scheduled_at: datetime | None = None
    removed_at: datetime | None = None

    @property
    def is_sharing(self) -> bool:
        return self.state in STATES_SHARING


def _state_before_publishing(share: Share) -> ShareStateView:
    if share.caption_status == CaptionStatus.CHANGES_REQUESTED:
        return ShareStateView(label=str(_("Changes requested")), tone="warn", state=CaptionStatus.CHANGES_REQUESTED)
    if share.status == ShareStatus.AWAITING_CAPTION_APPROVAL:
        return ShareStateView(label=str(_("Awaiting caption approval")), tone="warn", state=share.status)
    if share.status == ShareStatus.READY:
        return ShareStateView(
            label=str(_("Ready to publish")), tone="", state=share.status, scheduled_at=share.scheduled_at
        )
    return ShareStateView(label=str(share.get_status_display()), tone="", state=share.status)


def share_state_get(*, share: Share) -> ShareStateView:
    """The share's state as people read it, on every page that shows one (brand and influencer alike).

    ``Share.status`` ends at READY: from then on the publication's state is the truth (published,
    publishing, failed with its reason, removed, unknown), so a share with a publication never shows its
    ``status``. Before that, the caption approval and the schedule decide. Load ``publication`` with the
    share (``select_related``) on lists.
    """
    publication: SharePublication | None = getattr(share, "publication", None)
    if publication is None:
        return _state_before_publishing(share)
    needs_proof = publication.state == PublicationState.NEEDS_PROOF
    return ShareStateView(
        label=str(publication.get_state_display()),
        tone=STATE_TONES.get(PublicationState(publication.state), ""),
        state=publication.state,
        external_url=publication.external_url,
        reason=publication.last_error
        if publication.state
        in (
            PublicationState.FAILED,
            PublicationState.UNKNOWN,
            PublicationState.NEEDS_PROOF,
            PublicationState.PROOF_REVIEW,
            PublicationState.QUEUED,
        )
        # A published post whose counts could not be read for a window (campaigns.metrics): say so.
        or publication.error_code == "metrics_unknown"
        else "",
        retry_safe=publication.state == PublicationState.FAILED and publication.retry_safe,
        intent_url=share_intent_url(account=share.connected_account, text=publication.posted_text)
        if needs_proof
        else "",
        posted_text=publication.posted_text if needs_proof else "",
        needs_proof=needs_proof,
        proof_url=publication.proof_url,
        published_at=publication.published_at if publication.state == PublicationState.PUBLISHED else None,
        needs_reconnect=publication.state == PublicationState.FAILED
        and publication.error_code in ("auth_revoked", "auth_expired", "account_unusable"),
        removed_at=publication.removed_at if publication.state == PublicationState.REMOVED else None,
    )


def share_list_for_influencer(*, influencer: InfluencerProfile) -> QuerySet[Share]:
    """The influencer's shares with their publication and snapshots (newest first; bounded queries)."""
    return (
        Share.objects.filter(influencer=influencer)
        .select_related("campaign__brand", "connected_account", "publication")
        .prefetch_related(Prefetch("metric_snapshots", queryset=MetricSnapshot.objects.order_by("-collected_at")))
        .order_by("-created_at")
    )


def latest_snapshot(*, share: Share) -> MetricSnapshot | None:
    """The newest snapshot from the prefetched ``metric_snapshots`` (no query when prefetched)."""
    snapshots = list(share.metric_snapshots.all())
    return max(snapshots, key=lambda snapshot: snapshot.collected_at) if snapshots else None


def publication_list_unknown() -> QuerySet[SharePublication]:
    return SharePublication.objects.filter(state=PublicationState.UNKNOWN).select_related("share__connected_account")


@dataclass(frozen=True)
class SharePostPage:
    """The phone-friendly page an influencer posts a share from on a "you post, we verify" network (or any
    network Linkilike may not post to): the caption to copy, the image to download, the network's share page
    where it has one, and where to paste the link to the post."""

    share: Share
    state: ShareStateView
    network_label: str
    caption: str
    intent_url: str
    has_image: bool
    how_to_post: str
    permalink_example: str
    verification: str
    pays_for: str
    #: The post is still to be made (or its link pasted again).
    can_paste: bool


def share_post_page_get(*, share: Share) -> SharePostPage | None:
    """What the share page shows; None when the share is not one the influencer posts herself."""
    publication: SharePublication | None = getattr(share, "publication", None)
    if publication is None or (not publication.posted_text and not publication.proof_url):
        return None
    cls = handle_provider_class(share.connected_account.network)
    if cls is None and provider_class(share.connected_account.network).capabilities.api_posting_allowed:
        return None
    content = share_content(share=share)
    return SharePostPage(
        share=share,
        state=share_state_get(share=share),
        network_label=network_label(share.connected_account.network),
        caption=publication.posted_text,
        intent_url=share_intent_url(account=share.connected_account, text=publication.posted_text),
        has_image=bool(content is not None and content.media and content.media_kind == "image"),
        how_to_post=str(cls.how_to_post) if cls is not None else "",
        permalink_example=cls.permalink_example if cls is not None else "",
        verification=cls.verification_label() if cls is not None else "",
        pays_for=cls.pays_for() if cls is not None else "",
        can_paste=publication.state in (PublicationState.NEEDS_PROOF, PublicationState.PROOF_REVIEW),
    )
