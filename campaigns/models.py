"""Campaigns: what a brand hands to influencers, how it is priced and who it targets.

The lifecycle (``status``) is changed only by ``campaigns.services``; see
``campaigns.services.TRANSITIONS`` for the allowed moves.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from brands.models import Brand
from influencers.models import Topic


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


DEFAULT_PLATFORM_FEE_BPS = 1500

# The columns' ranges (PostgreSQL integer and bigint): inputs are bounded by them, as a larger number is a
# database error (a 500; found by schemathesis).
MAX_BIGINT = 2**63 - 1
MAX_INTEGER = 2**31 - 1


class Campaign(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("tracking name"), max_length=60)
    brief = models.TextField(
        _("brief"),
        blank=True,
        max_length=5000,
        help_text=_("What the campaign is about and what influencers should do."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )

    # Money: integer minor units (cents) in ``currency``.
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    budget_minor = models.BigIntegerField(_("total budget"), default=0)
    per_share_cap_minor = models.BigIntegerField(_("cap per share"), null=True, blank=True)
    cpm_minor = models.BigIntegerField(_("price per 1,000 reach"), null=True, blank=True)
    cpe_minor = models.BigIntegerField(_("price per engagement"), null=True, blank=True)
    cpc_minor = models.BigIntegerField(_("price per unique click"), null=True, blank=True)
    platform_fee_bps = models.PositiveIntegerField(
        _("platform fee (basis points)"), default=DEFAULT_PLATFORM_FEE_BPS, help_text=_("1500 = 15%.")
    )

    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    requires_caption_approval = models.BooleanField(
        _("approve each caption"),
        default=False,
        help_text=_("Influencers' edited captions wait for your approval before they are shared."),
    )

    # Disclosure: language code -> disclosure tag (e.g. {"en": "#ad", "de": "#Werbung"}).
    disclosures = models.JSONField(_("disclosures"), default=dict, blank=True)
    # Earned-media-value prices (an ESTIMATE shown on the results tab): metric -> minor units per unit
    # ("impressions" per 1,000). Empty = campaigns.tracking.selectors.EMV_DEFAULT_PRICES.
    emv_prices = models.JSONField(_("earned media value prices"), default=dict, blank=True)

    # Targeting.
    topics = models.ManyToManyField(Topic, blank=True, related_name="campaigns", verbose_name=_("topics"))
    countries = CountryField(_("countries"), multiple=True, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    networks = models.JSONField(_("networks"), default=list, blank=True)
    followers_min = models.PositiveIntegerField(_("minimum followers"), null=True, blank=True)
    followers_max = models.PositiveIntegerField(_("maximum followers"), null=True, blank=True)
    min_engagement_rate = models.DecimalField(
        _("minimum engagement rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    # Review and lifecycle bookkeeping.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("brand", "slug"), name="campaign_unique_slug_per_brand"),
            models.CheckConstraint(condition=models.Q(budget_minor__gte=0), name="campaign_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_live(self) -> bool:
        """Approved and inside its dates: influencers can share it now."""
        if self.status != CampaignStatus.APPROVED or self.starts_at is None or self.ends_at is None:
            return False
        return self.starts_at <= timezone.now() < self.ends_at

    @property
    def last_day(self) -> date | None:
        """The last day it runs (``ends_at`` is the exclusive end: midnight after that day)."""
        if self.ends_at is None:
            return None
        return timezone.localtime(self.ends_at - timedelta(microseconds=1)).date()

    @property
    def display_status(self) -> str:
        if self.is_live:
            return str(_("Live"))
        if self.status == CampaignStatus.APPROVED and self.starts_at and timezone.now() < self.starts_at:
            return str(_("Approved, starts soon"))
        return str(self.get_status_display())


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


def content_media_path(instance: ContentPiece, filename: str) -> str:
    return f"campaigns/{instance.campaign.brand_id}/{instance.campaign_id}/{filename}"


class ContentPiece(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="content", verbose_name=_("campaign"))
    title = models.CharField(_("title"), max_length=120)
    target_url = models.URLField(
        _("link"),
        max_length=1000,
        help_text=_("Where the shared post links to. Tracking parameters (UTM) are added automatically."),
    )
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    media = models.FileField(_("image or video"), upload_to=content_media_path, blank=True, max_length=300)
    media_kind = models.CharField(_("media type"), max_length=8, choices=MediaKind.choices, blank=True)
    media_size = models.PositiveBigIntegerField(_("file size (bytes)"), null=True, blank=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=content_media_path, blank=True, max_length=300)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("content piece")
        verbose_name_plural = _("content pieces")
        ordering = ("position", "pk")

    def __str__(self) -> str:
        return self.title


class CaptionVariant(models.Model):
    content = models.ForeignKey(
        ContentPiece, on_delete=models.CASCADE, related_name="variants", verbose_name=_("content piece")
    )
    text = models.TextField(_("text"), max_length=5000)
    language = models.CharField(_("language"), max_length=8)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("text variant")
        verbose_name_plural = _("text variants")
        ordering = ("position", "pk")

    def __str__(self) -> str:
        return self.text[:60]


class NotificationKind(models.TextChoices):
    CAMPAIGN_APPROVED = "campaign_approved", _("Campaign approved")
    CAMPAIGN_REJECTED = "campaign_rejected", _("Campaign rejected")
    CAMPAIGN_COMPLETED = "campaign_completed", _("Campaign completed")
    FUNDS_NEEDED = "funds_needed", _("Review waits for funds")


class Notification(models.Model):
    """An in-app notice shown on the brand dashboard."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("brand"))
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("campaign"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    #: The notice in the language of whoever caused it (staff, often English): kept for the admin; the dashboard
    #: words it again from ``kind`` in the reader's language (``notification_text``).
    message = models.TextField(_("message"))
    #: Free text the notice quotes as written (the reviewer's reason for a rejection).
    detail = models.TextField(_("detail"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.message[:60]


# --- Matching, moderation, offers and shares (issue 6) ----------------------------------
#
# Services live in ``campaigns.matching`` (engine, services, selectors); the state machines
# below are enforced there, never in ``save()``.

#: Matches score on a 0-1000 integer scale (1000 = perfect fit); see campaigns.matching.engine.
MATCH_SCORE_MAX = 1000


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Match(models.Model):
    """The engine's proposal that an influencer fits a campaign, and the moderator's decision.

    State machine (``campaigns.matching.services``)::

        PROPOSED --match_approve--> APPROVED   (creates the Offer, emails the influencer)
        PROPOSED --match_reject---> REJECTED   (reason required)
        PROPOSED --engine re-run, no longer eligible / campaign closed--> WITHDRAWN

    ``score`` is an integer 0-1000 (``MATCH_SCORE_MAX``). ``score_parts`` holds the numbers
    behind it (``topic``, ``audience``, ``performance``, ``health``, ``exposure_penalty``, each
    with its inputs) so the explanation can be rendered in any language; ``explanation`` is the
    English text built from the parts at scoring time, stored for audit.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="matches", verbose_name=_("campaign"))
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile", on_delete=models.CASCADE, related_name="matches", verbose_name=_("influencer")
    )
    score = models.PositiveSmallIntegerField(_("score (0-1000)"), default=0, db_index=True)
    score_parts = models.JSONField(_("score parts"), default=dict, blank=True)
    explanation = models.TextField(_("explanation"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MatchStatus.choices, default=MatchStatus.PROPOSED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    #: e.g. [{"kind": "competitor", "brand": "Other Coffee", "category": "coffee", "offer_id": 3, "until": "..."}]
    conflict_flags = models.JSONField(_("conflicts"), default=list, blank=True)
    created_at = models.DateTimeField(_("proposed"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ("-score", "pk")
        constraints = [
            models.UniqueConstraint(fields=("campaign", "influencer"), name="campaigns_match_unique"),
            models.CheckConstraint(condition=models.Q(score__lte=MATCH_SCORE_MAX), name="campaigns_match_score_max"),
        ]

    def __str__(self) -> str:
        return f"{self.influencer} · {self.campaign} ({self.score})"

    @property
    def has_conflicts(self) -> bool:
        return bool(self.conflict_flags)


class OfferStatus(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Offer(models.Model):
    """An approved match as the influencer sees it.

    State machine (``campaigns.matching.services``)::

        NEW --offer_accept--> ACCEPTED   (creates one Share per chosen account)
        NEW --offer_decline-> DECLINED   (optional reason)
        NEW --offer_expire_due / checked on access--> EXPIRED  (campaign ended, budget exhausted
                                                               or campaign completed/cancelled)
        NEW --offer_withdraw (staff, admin action)--> WITHDRAWN

    While the campaign is paused a NEW offer stays NEW but cannot be accepted.

    Accepted, declined, expired and withdrawn are final.
    """

    match = models.OneToOneField(Match, on_delete=models.CASCADE, related_name="offer", verbose_name=_("match"))
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="offers", verbose_name=_("campaign"))
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile", on_delete=models.CASCADE, related_name="offers", verbose_name=_("influencer")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OfferStatus.choices, default=OfferStatus.NEW, db_index=True
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True, max_length=1000)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True, db_index=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    notified_at = models.DateTimeField(_("influencer notified"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("influencer", "status"), name="campaigns_offer_infl_status")]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.influencer}"


class CaptionStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", _("No approval needed")
    PENDING_APPROVAL = "pending_approval", _("Waiting for the brand")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class ShareStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_CAPTION_APPROVAL = "awaiting_caption_approval", _("Waiting for caption approval")
    READY = "ready", _("Waiting to be published")


class Share(models.Model):
    """One post of an accepted offer on one connected account.

    Caption state machine (``campaigns.matching.services``)::

        NOT_REQUIRED                                   (campaign does not approve captions)
        PENDING_APPROVAL --share_caption_approve--> APPROVED
        PENDING_APPROVAL --share_caption_request_changes--> CHANGES_REQUESTED
        CHANGES_REQUESTED --share_caption_resubmit--> PENDING_APPROVAL

    Share status::

        AWAITING_CAPTION_APPROVAL --caption approved--> READY
        (created READY when no approval is needed)

    READY means "waiting to be published" at ``scheduled_at`` (``None`` = as soon as
    possible). The publishing pipeline owns everything after READY (publishing, published,
    failed, unknown, attempts, leases, external ids) in its own fields or model; ``status``
    is wide enough (32) for its values.
    """

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="shares", verbose_name=_("offer"))
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="shares", verbose_name=_("campaign"))
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile", on_delete=models.CASCADE, related_name="shares", verbose_name=_("influencer")
    )
    connected_account = models.ForeignKey(
        "networks.ConnectedAccount", on_delete=models.PROTECT, related_name="shares", verbose_name=_("account")
    )
    #: The content piece the influencer chose (its link and image go out); None on shares made before it
    #: was stored, which use the campaign's first piece (``share_content``).
    content = models.ForeignKey(
        "ContentPiece",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shares",
        verbose_name=_("content"),
    )
    caption_text = models.TextField(_("caption"), max_length=70000)
    #: The language of the text the influencer started from: its disclosure (``#Werbung`` for "de") is the
    #: one the caption must keep when accepted, resubmitted, published and checked. "" on shares made before
    #: it was stored, which fall back to the offer's language (``share_language``).
    language = models.CharField(_("caption language"), max_length=8, blank=True, default="")
    caption_status = models.CharField(
        _("caption approval"), max_length=20, choices=CaptionStatus.choices, default=CaptionStatus.NOT_REQUIRED
    )
    brand_feedback = models.TextField(_("brand feedback"), blank=True, max_length=2000)
    caption_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    caption_decided_at = models.DateTimeField(_("caption decided"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=32, choices=ShareStatus.choices, default=ShareStatus.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("offer", "connected_account"), name="campaigns_share_once_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.connected_account_id}"


class ModerationAction(models.TextChoices):
    PROPOSED = "proposed", _("Proposed by the matching engine")
    APPROVED = "approved", _("Match approved")
    REJECTED = "rejected", _("Match rejected")
    WITHDRAWN = "withdrawn", _("Match withdrawn")
    OFFER_CREATED = "offer_created", _("Offer created")
    OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
    OFFER_DECLINED = "offer_declined", _("Offer declined")
    OFFER_EXPIRED = "offer_expired", _("Offer expired")
    CAPTION_APPROVED = "caption_approved", _("Caption approved")
    CAPTION_CHANGES_REQUESTED = "caption_changes_requested", _("Caption changes requested")
    CAPTION_RESUBMITTED = "caption_resubmitted", _("Caption resubmitted")


class ModerationEvent(models.Model):
    """Append-only audit trail: who decided what about a match, offer or share, and why."""

    match = models.ForeignKey(
        Match, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("match")
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("offer")
    )
    share = models.ForeignKey(
        Share, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("share")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=32, choices=ModerationAction.choices)
    before = models.CharField(_("before"), max_length=32, blank=True)
    after = models.CharField(_("after"), max_length=32, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("moderation event")
        verbose_name_plural = _("moderation events")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.created_at:%Y-%m-%d %H:%M}"


# --- Publishing and metrics (issue 7a) ---------------------------------------------------
#
# Services live in ``campaigns.publishing`` (publish pipeline, proof of post) and
# ``campaigns.metrics`` (metric pulls, retention); never in ``save()``.


class PublicationState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown (staff are checking)")
    NEEDS_PROOF = "needs_proof", _("Waiting for you to post")
    PROOF_SUBMITTED = "proof_submitted", _("Checking your post")
    REMOVED = "removed", _("Removed from the network")


class HandleKind(models.TextChoices):
    NONE = "", _("None")
    IDEMPOTENCY_KEY = "idempotency_key", _("Idempotency key")
    CONTAINER = "container", _("Media container")


class SharePublication(models.Model):
    """The publishing of one READY share, at most once (reliability T1).

    State machine (``campaigns.publishing.services``)::

        (share READY, time has come) --publication_queue--> QUEUED
                                       (network cannot post for the influencer) --> NEEDS_PROOF
        QUEUED --publication_claim (conditional UPDATE, new attempt_id + lease)--> PUBLISHING
        PUBLISHING --network answered--> PUBLISHED  (external_id / external_url stored)
        PUBLISHING --Transient / RateLimited--> QUEUED  (next_attempt_at: capped backoff + jitter,
                                                        retry_after honoured; retry_safe)
        PUBLISHING --container created (PENDING)--> QUEUED  (network_handle = container id; the next
                                                            claim completes it, never re-creates)
        PUBLISHING --AuthRevoked / ContentRejected / Duplicate / retries used up--> FAILED
        PUBLISHING --AmbiguousOutcome, or lease expired (crash)--> asked the network with the stored
                     handle: PUBLISHED | QUEUED (network says nothing was posted) | UNKNOWN
        UNKNOWN --staff "resolve by asking the network"--> PUBLISHED | QUEUED | UNKNOWN
        FAILED (retry_safe) --publication_retry (influencer / brand)--> QUEUED
        NEEDS_PROOF --proof_submit--> PROOF_SUBMITTED --proof_verify--> PUBLISHED | NEEDS_PROOF (reason)
        PUBLISHED --retention check: post gone / disclosure removed--> REMOVED (stops earning)

    ``network_handle`` is written and committed BEFORE the call that creates the post: for
    idempotency-key networks (Mastodon, sandbox) the key itself, for container networks
    (Instagram, Threads) the container id. A PUBLISHING row whose lease expired is never posted
    again blindly: it is resolved with that handle. UNKNOWN rows are shown to staff, not retried.
    """

    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="publication", verbose_name=_("share"))
    state = models.CharField(
        _("state"), max_length=20, choices=PublicationState.choices, default=PublicationState.QUEUED, db_index=True
    )
    attempt = models.PositiveIntegerField(_("attempts"), default=0)
    attempt_id = models.UUIDField(_("attempt ID"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    network_handle = models.CharField(_("network handle"), max_length=300, blank=True)
    network_handle_kind = models.CharField(
        _("network handle kind"), max_length=20, choices=HandleKind.choices, blank=True, default=HandleKind.NONE
    )
    handle_stored_at = models.DateTimeField(_("handle stored"), null=True, blank=True)
    #: Ids of the media uploaded for this post (networks that upload ahead of the post, Mastodon), stored
    #: before the call that creates it: a resumed attempt posts these, never a second upload or no media.
    media_ids = models.JSONField(_("media IDs on the network"), default=list, blank=True)
    posted_text = models.TextField(_("text as posted"), blank=True)
    external_id = models.CharField(_("post ID on the network"), max_length=300, blank=True, db_index=True)
    external_url = models.URLField(_("post address"), max_length=1000, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)
    last_error = models.TextField(_("reason"), blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    retry_safe = models.BooleanField(_("retry is safe"), default=False)
    auth_refreshed = models.BooleanField(_("token refreshed in this attempt"), default=False)
    proof_url = models.URLField(_("post address you pasted"), max_length=1000, blank=True)
    proof_checked_at = models.DateTimeField(_("proof checked"), null=True, blank=True)
    retention_checked_at = models.DateTimeField(_("retention checked"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("share publication")
        verbose_name_plural = _("share publications")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("state", "next_attempt_at"), name="campaigns_pub_state_next")]

    def __str__(self) -> str:
        return f"share {self.share_id}: {self.get_state_display()}"

    @property
    def is_earning(self) -> bool:
        return self.state == PublicationState.PUBLISHED


class MetricWindow:
    """Window labels; the schedule offsets come from ``settings.CAMPAIGN_METRICS_WINDOWS``."""

    MANUAL = "manual"
    REMOVED = "removed"


class MetricSnapshot(models.Model):
    """Network-reported counts of one share in one window; one row per (share, window) (T6: upsert).

    ``None`` means the network does not report that metric (never 0). ``engagements`` is the
    sum of the engagement counts the network reports (likes, reposts, replies, quotes,
    bookmarks, saves) less the author's own (``own_engagements``). A read without counts stores
    no row (``MetricWindowRetry``).
    """

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="metric_snapshots", verbose_name=_("share"))
    window = models.CharField(_("window"), max_length=16)
    collected_at = models.DateTimeField(_("collected"), default=timezone.now, db_index=True)
    impressions = models.BigIntegerField(_("impressions"), null=True, blank=True)
    reach = models.BigIntegerField(_("reach"), null=True, blank=True)
    views = models.BigIntegerField(_("views"), null=True, blank=True)
    likes = models.BigIntegerField(_("likes"), null=True, blank=True)
    reposts = models.BigIntegerField(_("reposts"), null=True, blank=True)
    replies = models.BigIntegerField(_("replies"), null=True, blank=True)
    quotes = models.BigIntegerField(_("quotes"), null=True, blank=True)
    bookmarks = models.BigIntegerField(_("bookmarks"), null=True, blank=True)
    shares = models.BigIntegerField(_("shares"), null=True, blank=True)
    saves = models.BigIntegerField(_("saves"), null=True, blank=True)
    link_clicks = models.BigIntegerField(_("link clicks (network-reported)"), null=True, blank=True)
    engagements = models.BigIntegerField(_("engagements"), null=True, blank=True)
    #: The author's own likes, reposts, replies, quotes and bookmarks within the counts above: left out of
    #: ``engagements`` (what is paid). None: the network does not reveal them.
    own_engagements = models.BigIntegerField(_("by the author's own account (not paid)"), null=True, blank=True)
    post_exists = models.BooleanField(_("post exists"), default=True)
    source = models.CharField(_("source"), max_length=20, default="network_reported")

    class Meta:
        verbose_name = _("metric snapshot")
        verbose_name_plural = _("metric snapshots")
        ordering = ("share", "collected_at")
        constraints = [models.UniqueConstraint(fields=("share", "window"), name="campaigns_metricsnapshot_once")]
        # "latest snapshot per share" and the previous/next snapshot the results rollup triggers look up.
        indexes = [models.Index(fields=("share", "collected_at", "id"), name="campaigns_snapshot_share_time")]

    def __str__(self) -> str:
        return f"share {self.share_id} {self.window}"


class MetricWindowRetry(models.Model):
    """A (share, window) whose counts a read could not give while the post was not confirmed gone.

    No snapshot is stored and nothing is booked for it ("unknown", never "zero"): the window is asked
    again after a capped, jittered backoff (``next_attempt_at``) and given up after its last try
    (``gave_up_at``), the reason then shown on the publication. A later successful read of the window
    deletes the row.
    """

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="metric_retries", verbose_name=_("share"))
    window = models.CharField(_("window"), max_length=16)
    attempts = models.PositiveIntegerField(_("tries"), default=0)
    first_failed_at = models.DateTimeField(_("first try without counts"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True, db_index=True)
    gave_up_at = models.DateTimeField(_("given up"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("metrics window without counts")
        verbose_name_plural = _("metrics windows without counts")
        ordering = ("share", "window")
        constraints = [models.UniqueConstraint(fields=("share", "window"), name="campaigns_metricretry_once")]

    def __str__(self) -> str:
        return f"share {self.share_id} {self.window}"


# --- Tracking links, clicks and holds (issue 7b) -----------------------------------------
#
# Services live in ``campaigns.tracking`` (redirect capture, drain, click rules, click
# earnings, results); never in ``save()``.


class TrackingLink(models.Model):
    """The short first-party link (``/r/<code>``) of one share; redirects to ``target_url``."""

    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="tracking_link", verbose_name=_("share"))
    code = models.CharField(_("code"), max_length=16, unique=True)
    #: the content's link with UTM parameters, utm_content = the share id.
    target_url = models.URLField(_("target"), max_length=1200)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.code


class ClickReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Repeat click (same visitor within the window)")
    BOT = "bot", _("Bot or link preview")
    HEAD = "head", _("HEAD request")
    PREFETCH = "prefetch", _("Prefetch or prerender")
    VELOCITY_HOLD = "velocity_hold", _("Above the click velocity limit")
    IP_RATE = "ip_rate", _("Too many clicks from one network address")
    POST_REMOVED = "post_removed", _("Post removed")
    OVER_BUDGET = "over_budget", _("Over budget")
    LATE = "late", _("Arrived after its hour was paid")


class Click(models.Model):
    """One request to a tracking link. Never stores the raw IP or user agent (salted hashes only)."""

    link = models.ForeignKey(TrackingLink, on_delete=models.CASCADE, related_name="clicks", verbose_name=_("link"))
    #: generated in the request; makes the drain idempotent (a replayed batch inserts nothing new).
    event_id = models.CharField(_("event ID"), max_length=32, unique=True)
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    ip_hash = models.CharField(_("visitor (hashed IP)"), max_length=32)
    ua_hash = models.CharField(_("browser (hashed user agent)"), max_length=32)
    ua_family = models.CharField(_("browser family"), max_length=24, blank=True)
    referrer_host = models.CharField(_("referrer"), max_length=200, blank=True)
    billable = models.BooleanField(_("billable"), default=False)
    reason = models.CharField(_("not billable because"), max_length=16, choices=ClickReason.choices, blank=True)
    accrued_at = models.DateTimeField(_("turned into earnings"), null=True, blank=True)

    class Meta:
        verbose_name = _("click")
        verbose_name_plural = _("clicks")
        ordering = ("-occurred_at",)
        indexes = [
            models.Index(fields=("link", "occurred_at"), name="campaigns_click_link_time"),
            models.Index(fields=("billable", "accrued_at"), name="campaigns_click_accrual"),
            # Unique clicks per link (results, CSV, the rollup rebuild) read billable clicks only.
            models.Index(
                fields=("link", "occurred_at"), condition=models.Q(billable=True), name="campaigns_click_billable"
            ),
            # The per-address rules (repeats, the rate across links) read one visitor's billable history.
            models.Index(
                fields=("ip_hash", "occurred_at"), condition=models.Q(billable=True), name="campaigns_click_visitor"
            ),
            # Results show the clicks that are not paid by reason; few rows, so they get their own index.
            models.Index(fields=("link", "reason"), condition=models.Q(billable=False), name="campaigns_click_unpaid"),
        ]

    def __str__(self) -> str:
        return f"{self.link_id} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class HoldReason(models.TextChoices):
    CLICK_VELOCITY = "click_velocity", _("Clicks arrived faster than people click")
    REACH_ANOMALY = "reach_anomaly", _("Reach far above the account's followers")
    ENGAGEMENT_ANOMALY = "engagement_anomaly", _("Engagement far above the influencer's usual")
    PEER_ENGAGEMENT = "peer_engagement", _("Engagement from another influencer of the same campaign")


class ShareHold(models.Model):
    """A share put on hold for review (F2, F3): its click earnings pause and its other earnings stay
    pending (never released for payout) until staff release it."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="holds", verbose_name=_("share"))
    reason = models.CharField(_("reason"), max_length=20, choices=HoldReason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("put on hold"), default=timezone.now, db_index=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )

    class Meta:
        verbose_name = _("share hold")
        verbose_name_plural = _("share holds")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("share", "reason"),
                condition=models.Q(released_at__isnull=True),
                name="campaigns_sharehold_one_open_per_reason",
            )
        ]

    def __str__(self) -> str:
        return f"share {self.share_id}: {self.get_reason_display()}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None


# --- Results rollups (issue 10, P2; ADR 12) ------------------------------------------------
#
# Maintained by database triggers on PostgreSQL (migration 0006): every writer of clicks,
# snapshots and accruals (the drain, metric pulls, bulk inserts, deletes) keeps them exact.
# Read by ``campaigns.tracking.selectors``; never written from Python except by the rebuild.


class ShareResult(models.Model):
    """One share's latest network-reported counts, unique (billable) clicks and earnings so far.

    A row appears with the share's first snapshot, click or earning; no row reads as no data.
    """

    share = models.OneToOneField(
        Share, on_delete=models.CASCADE, primary_key=True, related_name="result", verbose_name=_("share")
    )
    reach = models.BigIntegerField(_("reach"), null=True, blank=True)
    impressions = models.BigIntegerField(_("impressions"), null=True, blank=True)
    engagements = models.BigIntegerField(_("engagements"), null=True, blank=True)
    latest_at = models.DateTimeField(_("latest snapshot"), null=True, blank=True)
    unique_clicks = models.BigIntegerField(_("unique clicks"), default=0)
    earned_minor = models.BigIntegerField(_("earned"), default=0)

    class Meta:
        verbose_name = _("share result")
        verbose_name_plural = _("share results")

    def __str__(self) -> str:
        return f"share {self.share_id}"


class CampaignResultHour(models.Model):
    """What one campaign gained in one UTC hour: the over-time chart and the spend, pre-added.

    ``reach_gain`` / ``engagements_gain``: each snapshot's value minus the share's previous snapshot's
    (reach, else impressions); ``snapshots`` and ``unique_clicks`` say whether the hour had any data.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    hour = models.DateTimeField(_("hour (UTC)"))
    snapshots = models.IntegerField(_("snapshots"), default=0)
    reach_gain = models.BigIntegerField(_("reach gained"), default=0)
    engagements_gain = models.BigIntegerField(_("engagements gained"), default=0)
    unique_clicks = models.BigIntegerField(_("unique clicks"), default=0)
    earned_minor = models.BigIntegerField(_("earned"), default=0)
    fee_minor = models.BigIntegerField(_("platform fee"), default=0)

    class Meta:
        verbose_name = _("campaign result hour")
        verbose_name_plural = _("campaign result hours")
        constraints = [models.UniqueConstraint(fields=("campaign", "hour"), name="campaigns_resulthour_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.hour:%Y-%m-%d %H}"


class CampaignResultGroup(models.Model):
    """One campaign's results per network (``key`` "n:<network>") or per influencer ("i:<id>"), pre-added
    from ``ShareResult`` so the breakdown tables read a few rows, not every share.

    ``*_shares`` count the shares whose latest snapshot reports the metric: 0 shows as "not reported".
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    key = models.CharField(_("key"), max_length=40)
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("influencer"),
    )
    shares = models.IntegerField(_("shares"), default=0)
    reach = models.BigIntegerField(_("reach"), default=0)
    reach_shares = models.IntegerField(_("shares reporting reach"), default=0)
    impressions = models.BigIntegerField(_("impressions"), default=0)
    impressions_shares = models.IntegerField(_("shares reporting impressions"), default=0)
    engagements = models.BigIntegerField(_("engagements"), default=0)
    engagements_shares = models.IntegerField(_("shares reporting engagements"), default=0)
    unique_clicks = models.BigIntegerField(_("unique clicks"), default=0)
    earned_minor = models.BigIntegerField(_("earned"), default=0)

    class Meta:
        verbose_name = _("campaign result group")
        verbose_name_plural = _("campaign result groups")
        constraints = [models.UniqueConstraint(fields=("campaign", "key"), name="campaigns_resultgroup_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.key}"
