"""The sandbox network: a tiny Mastodon-compatible social network served by Linkilike itself.

Every account on it is a ``SandboxPersona``. Personas without an ``owner`` are the simulated
audience (they follow, like, reply and reblog through ``sandbox.simulation``); personas with an
owner are driven by a Linkilike user through the OAuth consent page and the client API.
Secrets (client secrets, codes, access tokens) are stored only as SHA-256 digests, except the
client secret, which the client API has to be able to compare (and is never shown in admin).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SandboxPersona(models.Model):
    handle = models.CharField(_("handle"), max_length=30, unique=True)
    display_name = models.CharField(_("display name"), max_length=80)
    note = models.TextField(_("bio"), blank=True, max_length=500)
    #: Topic keys from ``influencers.topics.TOPICS``; drive whom a post reaches and who engages.
    interests = models.JSONField(_("interests"), default=list, blank=True)
    #: How active a simulated persona is (multiplies its engagement probabilities).
    activity = models.FloatField(_("activity"), default=1.0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sandbox_personas",
        verbose_name=_("owner"),
        help_text=_("The Linkilike user who controls this account. Empty for simulated personas."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox persona")
        verbose_name_plural = _("sandbox personas")
        ordering = ("handle",)

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def is_simulated(self) -> bool:
        return self.owner_id is None


class SandboxFollow(models.Model):
    follower = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="following_links")
    followee = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="follower_links")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox follow")
        verbose_name_plural = _("sandbox follows")
        constraints = [
            models.UniqueConstraint(fields=("follower", "followee"), name="sandbox_follow_unique"),
            models.CheckConstraint(condition=~models.Q(follower=models.F("followee")), name="sandbox_follow_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.follower} → {self.followee}"


class SandboxApp(models.Model):
    name = models.CharField(_("name"), max_length=100)
    website = models.URLField(_("website"), blank=True)
    redirect_uris = models.JSONField(_("redirect URIs"), default=list)
    scopes = models.CharField(_("scopes"), max_length=300, default="read")
    client_id = models.CharField(_("client id"), max_length=64, unique=True)
    client_secret = models.CharField(_("client secret"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox app")
        verbose_name_plural = _("sandbox apps")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.name


class SandboxAuthorizationCode(models.Model):
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="codes")
    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="codes")
    code_digest = models.CharField(max_length=64, unique=True)
    redirect_uri = models.TextField()
    scopes = models.CharField(max_length=300)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox authorization code")
        verbose_name_plural = _("sandbox authorization codes")

    def __str__(self) -> str:
        return f"code for {self.persona} ({self.app})"


class SandboxAccessToken(models.Model):
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="tokens")
    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="tokens")
    token_digest = models.CharField(max_length=64, unique=True)
    scopes = models.CharField(_("scopes"), max_length=300)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox access token")
        verbose_name_plural = _("sandbox access tokens")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"token for {self.persona} ({self.app})"

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    UNLISTED = "unlisted", _("Unlisted")
    PRIVATE = "private", _("Followers only")
    DIRECT = "direct", _("Direct")


class SandboxStatus(models.Model):
    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="statuses")
    text = models.TextField(_("text"), blank=True)
    #: The content warning, shown before the text (Mastodon's ``spoiler_text``); one makes the post sensitive.
    spoiler_text = models.TextField(_("content warning"), blank=True)
    sensitive = models.BooleanField(_("sensitive"), default=False)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default="public")
    language = models.CharField(_("language"), max_length=8, blank=True)
    #: The post this one answers (a reply posted through the API); kept as a reply when that post is deleted.
    in_reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", verbose_name=_("in reply to")
    )
    #: Set on a reblog: this row is the reblogger's wrapper around ``reblog_of`` (no text of its own).
    reblog_of = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="reblogs", verbose_name=_("reblog of")
    )
    application_name = models.CharField(_("posted with"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    # Recounted from interactions, reblogs and replies by sandbox.services.status_counts_refresh: after each
    # step of the simulation, and when a member's persona favourites, reblogs or replies through the API.
    favourites_count = models.PositiveIntegerField(_("likes"), default=0)
    reblogs_count = models.PositiveIntegerField(_("reblogs"), default=0)
    replies_count = models.PositiveIntegerField(_("replies"), default=0)
    quotes_count = models.PositiveIntegerField(_("quotes"), default=0)

    class Meta:
        verbose_name = _("sandbox status")
        verbose_name_plural = _("sandbox statuses")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("persona", "reblog_of"),
                condition=models.Q(reblog_of__isnull=False),
                name="sandbox_status_reblog_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.persona}: {self.text[:40]}"


class SandboxIdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a persona posted with, kept for an hour whatever becomes of the post.

    Mastodon keeps the key apart from the status (in Redis, one hour), so a retry after the post was
    deleted finds nothing and answers 404 instead of posting again; keeping the key on the status row
    would forget it with the row. ``status_id``/``scheduled_status_id`` are plain numbers for that reason."""

    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    status_id = models.PositiveBigIntegerField(null=True, blank=True)
    scheduled_status_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox idempotency key")
        verbose_name_plural = _("sandbox idempotency keys")
        indexes = [models.Index(fields=("persona", "key", "created_at"), name="sandbox_idem_lookup")]

    def __str__(self) -> str:
        return f"{self.persona} {self.key}"


class SandboxScheduledStatus(models.Model):
    """A post to be published at ``scheduled_at`` (Mastodon's ScheduledStatus); ``params`` holds what to post."""

    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="scheduled_statuses")
    scheduled_at = models.DateTimeField(_("scheduled for"), db_index=True)
    params = models.JSONField(_("parameters"), default=dict)
    application_name = models.CharField(_("posted with"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox scheduled status")
        verbose_name_plural = _("sandbox scheduled statuses")
        ordering = ("scheduled_at", "id")

    def __str__(self) -> str:
        return f"{self.persona} at {self.scheduled_at:%Y-%m-%d %H:%M}"


class SandboxMedia(models.Model):
    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="media")
    status = models.ForeignKey(
        SandboxStatus, on_delete=models.CASCADE, null=True, blank=True, related_name="media_attachments"
    )
    #: Reserved for a scheduled post: attached to the status it becomes when published.
    scheduled_status = models.ForeignKey(
        "SandboxScheduledStatus", on_delete=models.SET_NULL, null=True, blank=True, related_name="media_attachments"
    )
    #: Stored under a name of ours with the extension of ``content_type`` (``sandbox.services.media_upload``).
    file = models.FileField(_("file"), upload_to="sandbox/%Y/%m/")
    #: Sniffed from the bytes at upload, never taken from the client's file name: the only type the
    #: file is ever served with. Empty for a file that could not be identified (never served).
    content_type = models.CharField(_("content type"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=1500)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    #: Processing finishes at this moment (the first request after it sees the media ready).
    ready_at = models.DateTimeField(_("ready at"))

    class Meta:
        verbose_name = _("sandbox media")
        verbose_name_plural = _("sandbox media")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"media {self.pk} of {self.persona}"

    def is_ready(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.ready_at


class InteractionKind(models.TextChoices):
    FAVOURITE = "favourite", _("Like")
    REBLOG = "reblog", _("Reblog")
    REPLY = "reply", _("Reply")


class SandboxInteraction(models.Model):
    status = models.ForeignKey(SandboxStatus, on_delete=models.CASCADE, related_name="interactions")
    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=10, choices=InteractionKind.choices)
    text = models.CharField(_("reply text"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("sandbox interaction")
        verbose_name_plural = _("sandbox interactions")
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("status", "persona", "kind"), name="sandbox_interaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.persona} {self.kind} {self.status_id}"


class SandboxExposure(models.Model):
    """A persona had the status in its timeline: from following the author, or via a reblog."""

    status = models.ForeignKey(SandboxStatus, on_delete=models.CASCADE, related_name="exposures")
    persona = models.ForeignKey(SandboxPersona, on_delete=models.CASCADE, related_name="exposures")
    via = models.ForeignKey(
        SandboxPersona, on_delete=models.CASCADE, null=True, blank=True, related_name="+", help_text=_("Reblogger")
    )
    degree = models.PositiveSmallIntegerField(default=1)
    exposed_at = models.DateTimeField()
    #: When the persona gets round to reading it; it decides to engage then, once.
    seen_at = models.DateTimeField(db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox exposure")
        verbose_name_plural = _("sandbox exposures")
        constraints = [models.UniqueConstraint(fields=("status", "persona"), name="sandbox_exposure_once")]

    def __str__(self) -> str:
        return f"{self.persona} saw {self.status_id}"
