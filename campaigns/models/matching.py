"""Matching, moderation, offers and shares (issue 6).

Services live in ``campaigns.matching`` (engine, services, selectors); the state machines below are enforced
there, never in ``save()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models.campaign import Campaign

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
    #: The participation fee promised for this share when the offer was accepted (the campaign's band for the
    #: account's followers then); 0: none. Booked once the post is up (``campaigns.earnings.participation``).
    participation_fee_minor = models.BigIntegerField(_("participation fee promised"), default=0)
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
