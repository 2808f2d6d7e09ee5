"""Reads for showing a share's publishing state to the influencer, the brand and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from campaigns.models import MetricSnapshot, PublicationState, Share, SharePublication, ShareStatus
from campaigns.publishing.proof import share_intent_url
from influencers.models import InfluencerProfile

#: Badge tone per state (``badge-ok`` / ``badge-warn`` / ``badge-error`` in app.css).
STATE_TONES = {
    PublicationState.PUBLISHED: "ok",
    PublicationState.FAILED: "error",
    PublicationState.UNKNOWN: "warn",
    PublicationState.REMOVED: "error",
    PublicationState.NEEDS_PROOF: "warn",
}


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


def share_state_get(*, share: Share) -> ShareStateView:
    """The share's state as people read it (works before a publication exists)."""
    publication: SharePublication | None = getattr(share, "publication", None)
    if publication is None:
        if share.status == ShareStatus.READY:
            label = _("Scheduled") if share.scheduled_at else _("Waiting to be published")
            return ShareStateView(label=str(label), tone="", state="ready")
        return ShareStateView(label=str(share.get_status_display()), tone="", state=share.status)
    needs_proof = publication.state == PublicationState.NEEDS_PROOF
    return ShareStateView(
        label=str(publication.get_state_display()),
        tone=STATE_TONES.get(PublicationState(publication.state), ""),
        state=publication.state,
        external_url=publication.external_url,
        reason=publication.last_error
        if publication.state
        in (PublicationState.FAILED, PublicationState.UNKNOWN, PublicationState.NEEDS_PROOF, PublicationState.QUEUED)
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
