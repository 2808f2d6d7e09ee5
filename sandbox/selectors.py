"""Reads of the sandbox network. Statuses are looked up for a viewer (None = anonymous)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from sandbox.errors import InvalidToken, RecordNotFound
from sandbox.models import (
    InteractionKind,
    SandboxAccessToken,
    SandboxInteraction,
    SandboxMedia,
    SandboxPersona,
    SandboxScheduledStatus,
    SandboxStatus,
)
from sandbox.services import MEDIA_TYPES, secret_digest

#: Mastodon's thread limits: with a user token 4,096 each way; without one 40 ancestors and 60 descendants.
CONTEXT_LIMIT = 4096
PUBLIC_ANCESTORS_LIMIT = 40
PUBLIC_DESCENDANTS_LIMIT = 60

PUBLICLY_VISIBLE = ("public", "unlisted")


def access_token_get_for_bearer(*, raw: str) -> SandboxAccessToken:
    token = (
        SandboxAccessToken.objects.select_related("persona", "app")
        .filter(token_digest=secret_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        raise InvalidToken()
    return token


def persona_list_with_counts() -> QuerySet[SandboxPersona]:
    return SandboxPersona.objects.annotate(
        followers_total=Count("follower_links", distinct=True),
        following_total=Count("following_links", distinct=True),
        statuses_total=Count("statuses", distinct=True),
    )


def persona_get_for_handle(*, handle: str) -> SandboxPersona:
    persona = persona_list_with_counts().filter(handle=handle.lower()).first()
    if persona is None:
        raise RecordNotFound()
    return persona


def persona_get_for_token(*, token: SandboxAccessToken) -> SandboxPersona:
    return persona_list_with_counts().get(pk=token.persona_id)


def persona_list_for_owner(*, user: User) -> QuerySet[SandboxPersona]:
    if not user.is_authenticated:
        return SandboxPersona.objects.none()
    return persona_list_with_counts().filter(owner=user).order_by("handle")


def persona_get_for_owner(*, user: User, persona_id: int) -> SandboxPersona | None:
    return persona_list_for_owner(user=user).filter(pk=persona_id).first()


def _statuses_for_viewer(viewer: SandboxPersona | None) -> QuerySet[SandboxStatus]:
    visible = Q(visibility__in=PUBLICLY_VISIBLE)
    if viewer is not None:
        visible |= Q(persona=viewer)
    return (
        SandboxStatus.objects.filter(visible)
        .select_related("persona", "in_reply_to", "reblog_of__persona", "reblog_of__in_reply_to")
        .prefetch_related("media_attachments", "reblog_of__media_attachments")
        .order_by("-created_at", "-id")
    )


def status_get_for_viewer(*, status_id: str | int, viewer: SandboxPersona | None) -> SandboxStatus:
    if not str(status_id).isdigit():
        raise RecordNotFound()
    status = _statuses_for_viewer(viewer).filter(pk=int(status_id)).first()
    if status is None:
        raise RecordNotFound()
    return status


def status_list_for_profile(*, persona: SandboxPersona, limit: int = 40) -> list[SandboxStatus]:
    return list(_statuses_for_viewer(None).filter(persona=persona, visibility="public", reblog_of__isnull=True)[:limit])


def status_list_recent(*, limit: int = 20) -> list[SandboxStatus]:
    return list(_statuses_for_viewer(None).filter(visibility="public", reblog_of__isnull=True)[:limit])


@dataclass(frozen=True)
class StatusRelations:
    """What the viewer did to the statuses of one answer (Mastodon's ``favourited`` and ``reblogged``)."""

    favourited: frozenset[int] = field(default_factory=frozenset)
    reblogged: frozenset[int] = field(default_factory=frozenset)


def status_relations_for_viewer(*, viewer: SandboxPersona | None, statuses: Iterable[SandboxStatus]) -> StatusRelations:
    if viewer is None:
        return StatusRelations()
    ids = {status.pk for status in statuses} | {status.reblog_of_id for status in statuses if status.reblog_of_id}
    favourited = SandboxInteraction.objects.filter(
        persona=viewer, kind=InteractionKind.FAVOURITE, status_id__in=ids
    ).values_list("status_id", flat=True)
    reblogged = SandboxStatus.objects.filter(persona=viewer, reblog_of_id__in=ids).values_list(
        "reblog_of_id", flat=True
    )
    return StatusRelations(favourited=frozenset(favourited), reblogged=frozenset(rid for rid in reblogged if rid))


@dataclass(frozen=True)
class StatusContext:
    ancestors: list[SandboxStatus]
    descendants: list[SandboxStatus]


def status_context_for_viewer(*, status: SandboxStatus, viewer: SandboxPersona | None) -> StatusContext:
    """The thread around ``status`` as the viewer may see it: ancestors oldest first, then the replies
    depth first in the order they were posted (Mastodon's ``/context``)."""
    visible = _statuses_for_viewer(viewer).filter(reblog_of__isnull=True)
    ancestors_limit = CONTEXT_LIMIT if viewer else PUBLIC_ANCESTORS_LIMIT
    descendants_limit = CONTEXT_LIMIT if viewer else PUBLIC_DESCENDANTS_LIMIT
    ancestors: list[SandboxStatus] = []
    parent_id = status.in_reply_to_id
    while parent_id is not None and len(ancestors) < ancestors_limit:
        parent = visible.filter(pk=parent_id).first()
        if parent is None:
            break
        ancestors.append(parent)
        parent_id = parent.in_reply_to_id

    def replies_to(parent_id: int) -> list[SandboxStatus]:
        return list(visible.filter(in_reply_to_id=parent_id).order_by("created_at", "id"))

    descendants: list[SandboxStatus] = []
    seen = {status.pk}
    stack = list(reversed(replies_to(status.pk)))
    while stack and len(descendants) < descendants_limit:
        reply = stack.pop()
        if reply.pk in seen:
            continue
        seen.add(reply.pk)
        descendants.append(reply)
        stack.extend(reversed(replies_to(reply.pk)))
    return StatusContext(ancestors=list(reversed(ancestors)), descendants=descendants)


def reply_list_for_status(*, status: SandboxStatus, limit: int = 30) -> QuerySet[SandboxInteraction]:
    """The simulated audience's replies (interactions, not posts)."""
    return status.interactions.filter(kind="reply").select_related("persona").order_by("created_at", "id")[:limit]


def reply_post_list_for_status(*, status: SandboxStatus, limit: int = 30) -> list[SandboxStatus]:
    """Public replies posted through the API (posts of their own), oldest first."""
    return list(
        _statuses_for_viewer(None).filter(in_reply_to=status, visibility="public").order_by("created_at", "id")[:limit]
    )


def media_get_for_persona(*, persona: SandboxPersona, media_id: str) -> SandboxMedia:
    """An upload of the persona's not yet attached to a post: once posted, Mastodon answers 404 for it."""
    if not str(media_id).isdigit():
        raise RecordNotFound()
    media = SandboxMedia.objects.filter(persona=persona, pk=int(media_id), status__isnull=True).first()
    if media is None:
        raise RecordNotFound()
    return media


def scheduled_status_list_for_persona(*, persona: SandboxPersona, limit: int = 20) -> list[SandboxScheduledStatus]:
    return list(
        SandboxScheduledStatus.objects.filter(persona=persona)
        .prefetch_related("media_attachments")
        .order_by("-id")[: max(1, min(limit, 40))]
    )


def scheduled_status_get_for_persona(*, persona: SandboxPersona, scheduled_id: str) -> SandboxScheduledStatus:
    if not str(scheduled_id).isdigit():
        raise RecordNotFound()
    scheduled = (
        SandboxScheduledStatus.objects.filter(persona=persona, pk=int(scheduled_id))
        .prefetch_related("media_attachments")
        .first()
    )
    if scheduled is None:
        raise RecordNotFound()
    return scheduled


def media_get_public(*, media_id: int) -> SandboxMedia:
    """A media file anyone may fetch: attached to a status anyone may read (public, or unlisted, whose
    page is public too; deleting a status deletes its media) and of a type sniffed at upload.

    Unattached media stay their uploader's (``media_get_for_persona``): were they public, anyone
    could host any file on the app's origin by uploading it and never posting."""
    media = SandboxMedia.objects.filter(
        pk=media_id,
        status__visibility__in=PUBLICLY_VISIBLE,
        content_type__in=MEDIA_TYPES,
        ready_at__lte=timezone.now(),
    ).first()
    if media is None:
        raise RecordNotFound()
    return media
