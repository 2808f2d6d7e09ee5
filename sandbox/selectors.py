"""Reads of the sandbox network. Statuses are looked up for a viewer (None = anonymous)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from sandbox.errors import InvalidToken, RecordNotFound
from sandbox.models import SandboxAccessToken, SandboxInteraction, SandboxMedia, SandboxPersona, SandboxStatus
from sandbox.services import MEDIA_TYPES, secret_digest

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
        .select_related("persona")
        .prefetch_related("media_attachments")
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
    return list(_statuses_for_viewer(None).filter(persona=persona, visibility="public")[:limit])


def status_list_recent(*, limit: int = 20) -> list[SandboxStatus]:
    return list(_statuses_for_viewer(None).filter(visibility="public")[:limit])


def reply_list_for_status(*, status: SandboxStatus, limit: int = 30) -> QuerySet[SandboxInteraction]:
    return status.interactions.filter(kind="reply").select_related("persona").order_by("created_at", "id")[:limit]


def media_get_for_persona(*, persona: SandboxPersona, media_id: str) -> SandboxMedia:
    if not str(media_id).isdigit():
        raise RecordNotFound()
    media = SandboxMedia.objects.filter(persona=persona, pk=int(media_id)).first()
    if media is None:
        raise RecordNotFound()
    return media


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
