"""Publishing and metrics (issue 7a): a share's publication, its metric snapshots and the retries of missed windows.

Services live in ``campaigns.publishing`` (publish pipeline, proof of post) and ``campaigns.metrics`` (metric
pulls, retention); never in ``save()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models.matching import Share


class PublicationState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown (staff are checking)")
    NEEDS_PROOF = "needs_proof", _("Waiting for you to post")
    PROOF_SUBMITTED = "proof_submitted", _("Checking your post")
    #: No public read could see the post (private, unreachable, or a network without one): staff look at it,
    #: and the tracking link's first real clicks verify it meanwhile (``campaigns.publishing.proof``).
    PROOF_REVIEW = "proof_review", _("Waiting for a check by our team")
    REMOVED = "removed", _("Removed from the network")


class ProofVerifiedBy(models.TextChoices):
    """How a pasted post was verified ("you post, we verify")."""

    NONE = "", _("Not verified")
    PAGE = "page", _("Its public page")
    EMBED = "embed", _("The network's public embed")
    CLICKS = "clicks", _("Real clicks on its link")
    STAFF = "staff", _("Our team")


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
                                                                   | PROOF_REVIEW (no public read saw it)
        PROOF_REVIEW --first real clicks (proofs_verify_by_clicks_due)--> PUBLISHED (verified by clicks)
        PROOF_REVIEW --staff spot-check--> PUBLISHED | NEEDS_PROOF (reason)
        PUBLISHED (verified by clicks) --staff spot-check refuses--> REMOVED (reason)
        PUBLISHED --retention check: post gone / disclosure removed--> REMOVED (stops earning)
        PUBLISHED --retention check: still up with its disclosure--> PUBLISHED, ``retained_at`` set

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
    proof_submitted_at = models.DateTimeField(_("post address pasted"), null=True, blank=True)
    proof_verified_by = models.CharField(
        _("verified by"), max_length=10, choices=ProofVerifiedBy.choices, blank=True, default=ProofVerifiedBy.NONE
    )
    #: The staff spot-check of a post no public read could see (``proof_review_decide``; audited).
    proof_reviewed_at = models.DateTimeField(_("spot-checked"), null=True, blank=True)
    proof_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("spot-checked by"),
    )
    #: Hashed network addresses the influencer used Linkilike from (``campaigns.tracking.capture.visitor_hash``):
    #: her own clicks never verify her post.
    proof_own_visitors = models.JSONField(_("the influencer's own addresses (hashed)"), default=list, blank=True)
    retention_checked_at = models.DateTimeField(_("retention checked"), null=True, blank=True)
    #: When the post was found still up with its disclosure after the retention period (the participation
    #: fee is earned for good from then on, ``campaigns.earnings.participation``).
    retained_at = models.DateTimeField(_("stayed up for the retention period"), null=True, blank=True)
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

    share = models.ForeignKey(
        Share,
        on_delete=models.CASCADE,
        db_constraint=False,  # checked per statement (migration 0023, linkilike.references)
        related_name="metric_snapshots",
        verbose_name=_("share"),
    )
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
