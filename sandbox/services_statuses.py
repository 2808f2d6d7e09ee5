"""Writes of the sandbox network's posts: posting (now or scheduled), replies, favourites, reblogs, deletes.

Mastodon's rules as its API documents them (and its source shows): an ``Idempotency-Key`` is kept for
one hour apart from the post, so reusing it after the post was deleted answers 404 instead of posting
again; a content warning makes a post sensitive; a reply to a post the author cannot see answers 404;
``scheduled_at`` at least five minutes ahead makes a scheduled post, a moment already past posts now,
one in between is refused. A reblog is a post of its own (a wrapper without text), as on Mastodon.

Counts on a post are recounted from what made them (``status_counts_refresh``): the simulated
audience's interactions, the favourites members' personas gave through the API, reblogs and replies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sandbox.errors import NotPermitted, RecordNotFound, SandboxApiError, UnprocessableEntity, ValidationFailed
from sandbox.models import (
    InteractionKind,
    SandboxIdempotencyKey,
    SandboxInteraction,
    SandboxMedia,
    SandboxPersona,
    SandboxScheduledStatus,
    SandboxStatus,
    Visibility,
)

URL_PATTERN = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
IDEMPOTENCY_WINDOW = timedelta(hours=1)
MIN_SCHEDULE_OFFSET = timedelta(minutes=5)
MAX_CHARACTERS = 500
CHARACTERS_RESERVED_PER_URL = 23
MAX_MEDIA_ATTACHMENTS = 4
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
SCHEDULED_TOO_SOON = "Scheduled at The scheduled date must be in the future"
REBLOG_VISIBILITIES = (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE)


def status_text_length(text: str) -> int:
    """Mastodon's count: every URL counts as 23 characters, whatever its length."""
    urls = URL_PATTERN.findall(text)
    return len(URL_PATTERN.sub("", text)) + CHARACTERS_RESERVED_PER_URL * len(urls)


def parse_flag(value: Any) -> bool | None:
    """A boolean parameter as Rails reads it: blank is unset; "0", "f", "false", "off" are false."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"0", "f", "false", "off"}


@dataclass(frozen=True)
class StatusCreated:
    status: SandboxStatus
    created: bool


@dataclass(frozen=True)
class StatusScheduled:
    scheduled: SandboxScheduledStatus
    created: bool


@dataclass(frozen=True)
class _Draft:
    text: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str
    in_reply_to: SandboxStatus | None
    media: list[SandboxMedia]


def _visible_to(persona: SandboxPersona) -> QuerySet[SandboxStatus]:
    return SandboxStatus.objects.filter(Q(visibility__in=(Visibility.PUBLIC, Visibility.UNLISTED)) | Q(persona=persona))


def _draft(
    *,
    persona: SandboxPersona,
    text: str,
    media_ids: Sequence[str],
    visibility: str,
    language: str,
    spoiler_text: str,
    sensitive: bool | None,
    in_reply_to_id: str,
    now: datetime,
) -> _Draft:
    """Checks a post as Mastodon does before it is published or scheduled; locks the media it takes."""
    in_reply_to: SandboxStatus | None = None
    if in_reply_to_id:
        wanted_reply = str(in_reply_to_id)
        found = _visible_to(persona).filter(pk=int(wanted_reply)).first() if wanted_reply.isdigit() else None
        if found is None:
            raise SandboxApiError(REPLY_NOT_FOUND, http_status=404)
        in_reply_to = found
    text = text or ""
    spoiler_text = spoiler_text or ""
    wanted = [str(media_id) for media_id in media_ids if str(media_id).strip()]
    if not text.strip() and not wanted:
        raise ValidationFailed("Text can't be blank")
    if status_text_length(text) + len(spoiler_text) > MAX_CHARACTERS:
        raise ValidationFailed(f"Text character limit of {MAX_CHARACTERS} exceeded")
    if len(wanted) > MAX_MEDIA_ATTACHMENTS:
        raise UnprocessableEntity(f"Cannot attach more than {MAX_MEDIA_ATTACHMENTS} files")
    visibility = visibility or Visibility.PUBLIC
    if visibility not in Visibility.values:
        raise ValidationFailed("Visibility is not included in the list")
    media: list[SandboxMedia] = []
    if wanted:
        if not all(media_id.isdigit() for media_id in wanted):
            raise RecordNotFound()
        rows = SandboxMedia.objects.select_for_update().filter(
            persona=persona,
            pk__in=[int(media_id) for media_id in wanted],
            status__isnull=True,
            scheduled_status__isnull=True,
        )
        found_media = {str(row.pk): row for row in rows}
        if len(found_media) != len(set(wanted)):
            raise RecordNotFound()
        media = [found_media[media_id] for media_id in dict.fromkeys(wanted)]
        if not all(row.is_ready(now) for row in media):
            raise UnprocessableEntity("Cannot attach files that have not finished processing. Try again in a moment!")
    language = (language or "").strip()
    return _Draft(
        text=text,
        spoiler_text=spoiler_text,
        # A content warning makes the post sensitive, whatever was asked.
        sensitive=bool(sensitive) or bool(spoiler_text.strip()),
        visibility=visibility,
        # An unknown language is not refused: Mastodon falls back to a default; here there is none.
        language=language if LANGUAGE_PATTERN.match(language) else "",
        in_reply_to=in_reply_to,
        media=media,
    )


def _earlier_key(*, persona: SandboxPersona, key: str, now: datetime) -> SandboxIdempotencyKey | None:
    return (
        SandboxIdempotencyKey.objects.filter(persona=persona, key=key, created_at__gte=now - IDEMPOTENCY_WINDOW)
        .order_by("-created_at", "-id")
        .first()
    )


def _insert(*, persona: SandboxPersona, draft: _Draft, application_name: str, now: datetime) -> SandboxStatus:
    status = SandboxStatus.objects.create(
        persona=persona,
        text=draft.text,
        spoiler_text=draft.spoiler_text,
        sensitive=draft.sensitive,
        visibility=draft.visibility,
        language=draft.language[:8],
        in_reply_to=draft.in_reply_to,
        application_name=application_name[:100],
        created_at=now,
    )
    for row in draft.media:
        row.status = status
        row.scheduled_status = None
        row.save(update_fields=["status", "scheduled_status"])
    if draft.in_reply_to is not None:
        status_counts_refresh(status=draft.in_reply_to)
    return status


@transaction.atomic
def status_post(
    *,
    persona: SandboxPersona,
    text: str,
    media_ids: Sequence[str] = (),
    visibility: str = "",
    language: str = "",
    spoiler_text: str = "",
    sensitive: bool | None = None,
    in_reply_to_id: str = "",
    scheduled_at: datetime | None = None,
    idempotency_key: str = "",
    application_name: str = "",
    now: datetime | None = None,
) -> StatusCreated | StatusScheduled:
    """``POST /api/v1/statuses``: a post now, or a scheduled post when ``scheduled_at`` lies ahead."""
    now = now or timezone.now()
    # One writer per account at a time: the Idempotency-Key check below cannot race.
    SandboxPersona.objects.select_for_update().filter(pk=persona.pk).first()
    key = (idempotency_key or "").strip()[:255]
    if scheduled_at is not None and scheduled_at <= now:
        scheduled_at = None  # a moment already past: Mastodon posts at once
    if key:
        earlier = _earlier_key(persona=persona, key=key, now=now)
        if earlier is not None:
            # The post the key made, if it still exists; deleted (or published, for a scheduled one): 404.
            if scheduled_at is not None:
                scheduled = SandboxScheduledStatus.objects.filter(
                    persona=persona, pk=earlier.scheduled_status_id or 0
                ).first()
                if scheduled is None:
                    raise RecordNotFound()
                return StatusScheduled(scheduled=scheduled, created=False)
            status = SandboxStatus.objects.filter(persona=persona, pk=earlier.status_id or 0).first()
            if status is None:
                raise RecordNotFound()
            return StatusCreated(status=status, created=False)
    draft = _draft(
        persona=persona,
        text=text,
        media_ids=media_ids,
        visibility=visibility,
        language=language,
        spoiler_text=spoiler_text,
        sensitive=sensitive,
        in_reply_to_id=in_reply_to_id,
        now=now,
    )
    if scheduled_at is not None:
        if scheduled_at <= now + MIN_SCHEDULE_OFFSET:
            raise ValidationFailed(SCHEDULED_TOO_SOON)
        scheduled = SandboxScheduledStatus.objects.create(
            persona=persona,
            scheduled_at=scheduled_at,
            application_name=application_name[:100],
            created_at=now,
            params={
                "text": draft.text,
                "media_ids": [str(row.pk) for row in draft.media] or None,
                "sensitive": sensitive,
                "spoiler_text": draft.spoiler_text or None,
                "visibility": visibility or None,
                "language": draft.language or None,
                "in_reply_to_id": draft.in_reply_to.pk if draft.in_reply_to else None,
                "scheduled_at": None,
                "idempotency": None,
                "poll": None,
                "application_id": None,
            },
        )
        for row in draft.media:
            row.scheduled_status = scheduled
            row.save(update_fields=["scheduled_status"])
        if key:
            SandboxIdempotencyKey.objects.create(
                persona=persona, key=key, scheduled_status_id=scheduled.pk, created_at=now
            )
        return StatusScheduled(scheduled=scheduled, created=True)
    status = _insert(persona=persona, draft=draft, application_name=application_name, now=now)
    if key:
        SandboxIdempotencyKey.objects.create(persona=persona, key=key, status_id=status.pk, created_at=now)
    return StatusCreated(status=status, created=True)


def status_create(
    *,
    persona: SandboxPersona,
    text: str,
    media_ids: Sequence[str] = (),
    visibility: str = "",
    language: str = "",
    spoiler_text: str = "",
    sensitive: bool | None = None,
    in_reply_to_id: str = "",
    idempotency_key: str = "",
    application_name: str = "",
    now: datetime | None = None,
) -> StatusCreated:
    """A post published now (``status_post`` without ``scheduled_at``)."""
    result = status_post(
        persona=persona,
        text=text,
        media_ids=media_ids,
        visibility=visibility,
        language=language,
        spoiler_text=spoiler_text,
        sensitive=sensitive,
        in_reply_to_id=in_reply_to_id,
        idempotency_key=idempotency_key,
        application_name=application_name,
        now=now,
    )
    assert isinstance(result, StatusCreated)  # noqa: S101 - without scheduled_at there is nothing to schedule
    return result


@transaction.atomic
def status_delete(*, persona: SandboxPersona, status: SandboxStatus) -> None:
    """Deletes the persona's own post (its media and reblogs go with it); deleting a reblog undoes it."""
    if status.persona_id != persona.pk:
        raise RecordNotFound()
    touched = [row for row in (status.reblog_of, status.in_reply_to) if row is not None]
    status.delete()
    for row in touched:
        status_counts_refresh(status=row)


def status_counts_refresh(*, status: SandboxStatus) -> SandboxStatus:
    """Recounts likes, reblogs and replies from what made them (simulated and API interactions alike)."""
    counts = dict(status.interactions.values_list("kind").annotate(total=Count("id")).values_list("kind", "total"))
    status.favourites_count = counts.get(InteractionKind.FAVOURITE, 0)
    status.reblogs_count = counts.get(InteractionKind.REBLOG, 0) + status.reblogs.count()
    status.replies_count = counts.get(InteractionKind.REPLY, 0) + status.replies.count()
    status.save(update_fields=["favourites_count", "reblogs_count", "replies_count"])
    return status


# --- favourites and reblogs ------------------------------------------------------------


def _proper(status: SandboxStatus) -> SandboxStatus:
    """Acting on a reblog acts on the post it carries, as on Mastodon."""
    return status.reblog_of if status.reblog_of is not None else status


@transaction.atomic
def status_favourite(*, persona: SandboxPersona, status: SandboxStatus, now: datetime | None = None) -> SandboxStatus:
    """Idempotent, like Mastodon's: favouriting twice answers the post favourited."""
    target = _proper(status)
    SandboxStatus.objects.select_for_update().filter(pk=target.pk).first()
    SandboxInteraction.objects.bulk_create(
        [
            SandboxInteraction(
                status=target, persona=persona, kind=InteractionKind.FAVOURITE, created_at=now or timezone.now()
            )
        ],
        ignore_conflicts=True,
    )
    return status_counts_refresh(status=target)


@transaction.atomic
def status_unfavourite(*, persona: SandboxPersona, status: SandboxStatus) -> SandboxStatus:
    target = _proper(status)
    SandboxStatus.objects.select_for_update().filter(pk=target.pk).first()
    SandboxInteraction.objects.filter(status=target, persona=persona, kind=InteractionKind.FAVOURITE).delete()
    return status_counts_refresh(status=target)


@transaction.atomic
def status_reblog(
    *, persona: SandboxPersona, status: SandboxStatus, visibility: str = "", now: datetime | None = None
) -> SandboxStatus:
    """The persona's reblog of ``status`` (the one it already has, if any): a post without text of its own."""
    target = _proper(status)
    SandboxStatus.objects.select_for_update().filter(pk=target.pk).first()
    if target.visibility == Visibility.DIRECT or (
        target.visibility == Visibility.PRIVATE and target.persona_id != persona.pk
    ):
        raise NotPermitted()
    existing = SandboxStatus.objects.filter(persona=persona, reblog_of=target).first()
    if existing is not None:
        return existing
    visibility = visibility or Visibility.PUBLIC
    if visibility not in REBLOG_VISIBILITIES:
        raise ValidationFailed("Visibility is not included in the list")
    try:
        with transaction.atomic():
            reblog = SandboxStatus.objects.create(
                persona=persona, reblog_of=target, visibility=visibility, created_at=now or timezone.now()
            )
    except IntegrityError:  # reblogged at the same moment by another request
        reblog = SandboxStatus.objects.get(persona=persona, reblog_of=target)
    status_counts_refresh(status=target)
    return reblog


@transaction.atomic
def status_unreblog(*, persona: SandboxPersona, status: SandboxStatus) -> SandboxStatus:
    target = _proper(status)
    SandboxStatus.objects.select_for_update().filter(pk=target.pk).first()
    SandboxStatus.objects.filter(persona=persona, reblog_of=target).delete()
    return status_counts_refresh(status=target)


# --- scheduled posts ----------------------------------------------------------------------


@transaction.atomic
def scheduled_status_reschedule(
    *, scheduled: SandboxScheduledStatus, scheduled_at: datetime, now: datetime | None = None
) -> SandboxScheduledStatus:
    now = now or timezone.now()
    if scheduled_at <= now + MIN_SCHEDULE_OFFSET:
        raise ValidationFailed(SCHEDULED_TOO_SOON)
    scheduled.scheduled_at = scheduled_at
    scheduled.save(update_fields=["scheduled_at"])
    return scheduled


@transaction.atomic
def scheduled_status_cancel(*, scheduled: SandboxScheduledStatus) -> None:
    """Its media are free again to attach elsewhere (Mastodon nullifies them)."""
    scheduled.delete()


def scheduled_statuses_publish_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Publishes the scheduled posts whose moment has come; each once (row lock, deleted when posted).

    A reply whose post was deleted meanwhile is published as a post of its own. Returns how many."""
    now = now or timezone.now()
    published = 0
    due = list(SandboxScheduledStatus.objects.filter(scheduled_at__lte=now).order_by("scheduled_at", "id")[:limit])
    for candidate in due:
        with transaction.atomic():
            scheduled = (
                SandboxScheduledStatus.objects.select_for_update(skip_locked=True)
                .select_related("persona")
                .filter(pk=candidate.pk)
                .first()
            )
            if scheduled is None:
                continue
            params = scheduled.params
            media = list(scheduled.media_attachments.filter(status__isnull=True))
            reply_to = str(params.get("in_reply_to_id") or "")
            in_reply_to = (
                _visible_to(scheduled.persona).filter(pk=int(reply_to)).first() if reply_to.isdigit() else None
            )
            draft = _Draft(
                text=str(params.get("text") or ""),
                spoiler_text=str(params.get("spoiler_text") or ""),
                sensitive=bool(params.get("sensitive")) or bool(params.get("spoiler_text")),
                visibility=str(params.get("visibility") or Visibility.PUBLIC),
                language=str(params.get("language") or ""),
                in_reply_to=in_reply_to,
                media=media,
            )
            _insert(
                persona=scheduled.persona,
                draft=draft,
                application_name=scheduled.application_name,
                now=scheduled.scheduled_at,
            )
            scheduled.delete()
            published += 1
    return published
