"""Platform infrastructure models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linkilike.audit_actions import ACTION_MAX_LENGTH, AuditCategory, action_choices


class IdempotencyRecord(models.Model):
    """One API write made under an ``Idempotency-Key``; replays return the stored response."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=("user", "key"), name="idempotency_unique_key_per_user")]
        indexes = [models.Index(fields=("created_at",))]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class AuditEvent(models.Model):
    """One moderation, money or permission change: who, when, what it was before and after.

    ``action`` is one of the actions the apps register (``linkilike.audit_actions``), ``category`` its kind.

    Append-only: the database refuses UPDATE and DELETE (migration 0002). The actor and brand are
    kept without a database foreign key so deleting a user or brand never has to touch (and so
    never blocks on) the trail; ``actor_label`` keeps who it was after the user is gone.
    """

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    category = models.CharField(_("kind"), max_length=20, choices=AuditCategory.choices)
    # Registered by the apps that record them (linkilike.audit_actions); read when needed, so no migration.
    action = models.CharField(_("action"), max_length=ACTION_MAX_LENGTH, choices=action_choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor at the time"), max_length=254, blank=True)
    target_type = models.CharField(_("object type"), max_length=100)
    target_id = models.CharField(_("object id"), max_length=64)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    brand = models.ForeignKey(
        "brands.Brand",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=("target_type", "target_id"), name="audit_target"),
            models.Index(fields=("action", "created_at"), name="audit_action_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"


class DeadLetter(models.Model):
    """A task that failed for good (retries used up, or a non-retryable error): kept for a person to
    look at, re-enqueue or mark resolved. Arguments are stored redacted of secrets."""

    task_name = models.CharField(_("task"), max_length=200, db_index=True)
    task_id = models.CharField(_("task id"), max_length=64, unique=True)
    args = models.JSONField(_("positional arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    arguments_redacted = models.BooleanField(
        _("arguments redacted"), default=False, help_text=_("Secrets were removed, so it cannot be re-enqueued as is.")
    )
    exception_type = models.CharField(_("exception"), max_length=200)
    exception_message = models.TextField(_("message"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    first_failed_at = models.DateTimeField(_("first failure"), default=timezone.now)
    last_failed_at = models.DateTimeField(_("last failure"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    retried_task_id = models.CharField(_("re-enqueued as"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("dead task")
        verbose_name_plural = _("dead tasks")
        ordering = ("-last_failed_at", "-pk")

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}]"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
