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
    #: A flat fee per share that stays up with its disclosure for the retention period; the
    #: bands below override it by audience, this applies to every audience no band covers.
    participation_fee_minor = models.BigIntegerField(_("participation fee per share"), null=True, blank=True)
    #: ``[{"up_to": 1000, "fee_minor": 500}, ..., {"up_to": null, "fee_minor": 3000}]``: the fee by the
    #: account's followers when the offer is accepted (``campaigns.earnings.pricing.participation_bands``).
    participation_bands = models.JSONField(_("participation fee by audience"), default=list, blank=True)
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
