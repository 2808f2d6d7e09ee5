"""Mastodon entity JSON (Account, Status, MediaAttachment, Application) for sandbox rows.

Field names and types follow Mastodon's API documentation: ids are strings, timestamps are
ISO-8601 with milliseconds in UTC, ``content`` is HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape, linebreaks, urlize

from sandbox.models import SandboxApp, SandboxMedia, SandboxPersona, SandboxStatus

Absolute = Callable[[str], str]

SANDBOX_VERSION = "4.3.0 (compatible; Linkilike sandbox)"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_html(text: str) -> str:
    return linebreaks(urlize(text, nofollow=True, autoescape=True), autoescape=False)


def app_json(app: SandboxApp, *, with_secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(app.pk),
        "name": app.name,
        "website": app.website or None,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": settings.SANDBOX_VAPID_KEY,
    }
    if with_secret:
        data |= {"client_id": app.client_id, "client_secret": app.client_secret, "client_secret_expires_at": 0}
    return data


def account_json(persona: SandboxPersona, absolute: Absolute, *, with_source: bool = False) -> dict[str, Any]:
    avatar = absolute(reverse("sandbox:avatar", kwargs={"handle": persona.handle}))
    data: dict[str, Any] = {
        "id": str(persona.pk),
        "username": persona.handle,
        "acct": persona.handle,
        "display_name": persona.display_name,
        "locked": False,
        "bot": persona.is_simulated,
        "discoverable": True,
        "group": False,
        "created_at": iso(persona.created_at),
        "note": content_html(persona.note) if persona.note else "",
        "url": absolute(reverse("sandbox:profile", kwargs={"handle": persona.handle})),
        "uri": absolute(reverse("sandbox:profile", kwargs={"handle": persona.handle})),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": "",
        "header_static": "",
        "followers_count": _count(persona, "followers_total", "follower_links"),
        "following_count": _count(persona, "following_total", "following_links"),
        "statuses_count": _count(persona, "statuses_total", "statuses"),
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }
    if with_source:
        data["source"] = {"privacy": "public", "sensitive": False, "language": "", "note": persona.note, "fields": []}
    return data


def _count(persona: SandboxPersona, annotated: str, relation: str) -> int:
    value = getattr(persona, annotated, None)
    if value is None:
        value = getattr(persona, relation).count()
    return int(value)


def media_json(media: SandboxMedia, absolute: Absolute, *, now: datetime | None = None) -> dict[str, Any]:
    ready = media.is_ready(now)
    url = absolute(reverse("sandbox:media-file", kwargs={"media_id": media.pk})) if ready else None
    aspect = round(media.width / media.height, 4) if media.height else None
    size = {"width": media.width, "height": media.height, "size": f"{media.width}x{media.height}", "aspect": aspect}
    return {
        "id": str(media.pk),
        "type": "image",
        "url": url,
        "preview_url": url,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": size, "small": size},
        "description": media.description or None,
        "blurhash": None,
    }


def status_json(status: SandboxStatus, absolute: Absolute) -> dict[str, Any]:
    persona = status.persona
    page = absolute(reverse("sandbox:status-page", kwargs={"handle": persona.handle, "status_id": status.pk}))
    return {
        "id": str(status.pk),
        "created_at": iso(status.created_at),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": status.visibility,
        "language": status.language or None,
        "uri": page,
        "url": page,
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "quotes_count": status.quotes_count,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "content": content_html(status.text),
        "reblog": None,
        "application": {"name": status.application_name, "website": None} if status.application_name else None,
        "account": account_json(persona, absolute),
        "media_attachments": [media_json(media, absolute) for media in status.media_attachments.all()],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def instance_json(absolute: Absolute, *, domain: str) -> dict[str, Any]:
    from sandbox.services import (
        CHARACTERS_RESERVED_PER_URL,
        MAX_CHARACTERS,
        MAX_IMAGE_BYTES,
        MAX_IMAGE_PIXELS,
        MAX_MEDIA_ATTACHMENTS,
        MEDIA_TYPES,
    )

    return {
        "domain": domain,
        "uri": domain,
        "title": "Linkilike sandbox",
        "version": SANDBOX_VERSION,
        "source_url": absolute(reverse("sandbox:index")),
        "description": escape("A small simulated social network for trying Linkilike without real accounts."),
        "languages": ["en", "de"],
        "configuration": {
            "urls": {"status": None},
            "statuses": {
                "max_characters": MAX_CHARACTERS,
                "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
                "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
            },
            "media_attachments": {
                "supported_mime_types": list(MEDIA_TYPES),
                "image_size_limit": MAX_IMAGE_BYTES,
                "image_matrix_limit": MAX_IMAGE_PIXELS,
            },
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
    }
