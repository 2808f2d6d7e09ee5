"""Tracking links, clicks and holds (issue 7b), and the results rollups (issue 10).

Services live in ``campaigns.tracking`` (redirect capture, drain, click rules, click earnings, results); never in
``save()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models.campaign import Campaign
from campaigns.models.matching import Share


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
        Share,
        on_delete=models.CASCADE,
        primary_key=True,
        db_constraint=False,  # checked per statement (migration 0023, linkilike.references)
        related_name="result",
        verbose_name=_("share"),
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

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        db_constraint=False,  # checked per statement (migration 0023, linkilike.references)
        related_name="+",
        verbose_name=_("campaign"),
    )
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

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        db_constraint=False,  # checked per statement (migration 0023, linkilike.references)
        related_name="+",
        verbose_name=_("campaign"),
    )
    key = models.CharField(_("key"), max_length=40)
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_constraint=False,  # checked per statement (migration 0023, linkilike.references)
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


class CampaignPendingHour(models.Model):
    """One campaign's billable clicks of one UTC hour that are not booked as earnings yet (``accrued_at`` empty).

    Kept by the click triggers (migration 0020) and emptied as the hourly booking marks the clicks: a row
    whose count falls to 0 is deleted, so a campaign has rows only for the hours still waiting. Includes the
    clicks of shares on hold and of removed posts; the results read those few shares' clicks apart.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    hour = models.DateTimeField(_("hour (UTC)"))
    clicks = models.BigIntegerField(_("clicks not booked yet"), default=0)

    class Meta:
        verbose_name = _("campaign clicks pending per hour")
        verbose_name_plural = _("campaign clicks pending per hour")
        constraints = [models.UniqueConstraint(fields=("campaign", "hour"), name="campaigns_pendinghour_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.hour:%Y-%m-%d %H}"


class CampaignResultReason(models.Model):
    """One campaign's recorded clicks that are not billable, per reason (``Click.reason``), kept by the click
    triggers (migration 0020): the results' "not paid" breakdown reads a few rows, not the clicks."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    reason = models.CharField(_("not billable because"), max_length=16, blank=True)
    clicks = models.BigIntegerField(_("clicks"), default=0)

    class Meta:
        verbose_name = _("campaign clicks not paid per reason")
        verbose_name_plural = _("campaign clicks not paid per reason")
        constraints = [models.UniqueConstraint(fields=("campaign", "reason"), name="campaigns_resultreason_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.reason}"
