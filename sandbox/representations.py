"""Mastodon entity JSON (Account, Status, Context, MediaAttachment, ScheduledStatus, Application, Instance
v1 and v2, OAuth server metadata) for sandbox rows.

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

from sandbox.models import SandboxApp, SandboxMedia, SandboxPersona, SandboxScheduledStatus, SandboxStatus
from sandbox.selectors import StatusContext, StatusRelations
from sandbox.services import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MEDIA_TYPES, SCOPES_SUPPORTED
from sandbox.services_statuses import CHARACTERS_RESERVED_PER_URL, MAX_CHARACTERS, MAX_MEDIA_ATTACHMENTS

Absolute = Callable[[str], str]

SANDBOX_VERSION = "4.3.0 (compatible; Linkilike sandbox)"
#: ``api_versions[mastodon]`` of a Mastodon 4.3 server (clients check it from 4.3 on).
SANDBOX_API_VERSION = 2
INSTANCE_TITLE = "Linkilike sandbox"
INSTANCE_DESCRIPTION = "A small simulated social network for trying Linkilike without real accounts."


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


def status_json(status: SandboxStatus, absolute: Absolute, relations: StatusRelations | None = None) -> dict[str, Any]:
    """A Status for one viewer: ``relations`` says which of the posts the viewer favourited or reblogged.

    A reblog is a wrapper post of the reblogger's without content; the post it carries is in ``reblog``."""
    relations = relations or StatusRelations()
    if status.reblog_of is not None:
        carried = status_json(status.reblog_of, absolute, relations)
        profile = absolute(reverse("sandbox:profile", kwargs={"handle": status.persona.handle}))
        return {
            **_status_fields(status, absolute, relations),
            "uri": f"{profile}/{status.pk}/activity",
            "url": None,
            "content": "",
            "media_attachments": [],
            "application": None,
            "favourited": carried["favourited"],
            "reblogged": carried["reblogged"],
            "reblog": carried,
        }
    return _status_fields(status, absolute, relations)


def _status_fields(status: SandboxStatus, absolute: Absolute, relations: StatusRelations) -> dict[str, Any]:
    persona = status.persona
    page = absolute(reverse("sandbox:status-page", kwargs={"handle": persona.handle, "status_id": status.pk}))
    parent = status.in_reply_to
    return {
        "id": str(status.pk),
        "created_at": iso(status.created_at),
        "in_reply_to_id": str(parent.pk) if parent else None,
        "in_reply_to_account_id": str(parent.persona_id) if parent else None,
        "sensitive": status.sensitive,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": status.language or None,
        "uri": page,
        "url": page,
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "quotes_count": status.quotes_count,
        "edited_at": None,
        "favourited": status.pk in relations.favourited,
        "reblogged": status.pk in relations.reblogged,
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


def context_json(context: StatusContext, absolute: Absolute, relations: StatusRelations) -> dict[str, Any]:
    return {
        "ancestors": [status_json(status, absolute, relations) for status in context.ancestors],
        "descendants": [status_json(status, absolute, relations) for status in context.descendants],
    }


def scheduled_status_json(scheduled: SandboxScheduledStatus, absolute: Absolute) -> dict[str, Any]:
    return {
        "id": str(scheduled.pk),
        "scheduled_at": iso(scheduled.scheduled_at),
        "params": dict(scheduled.params),
        "media_attachments": [media_json(media, absolute) for media in scheduled.media_attachments.all()],
    }


def _limits() -> dict[str, Any]:
    return {
        "statuses": {
            "max_characters": MAX_CHARACTERS,
            "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
            "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
        },
        "media_attachments": {
            "supported_mime_types": list(MEDIA_TYPES),
            "image_size_limit": MAX_IMAGE_BYTES,
            "image_matrix_limit": MAX_IMAGE_PIXELS,
            # No video here: limits of zero say so.
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
            "description_limit": 1500,
        },
        # No polls here either.
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
    }


def instance_v2_json(absolute: Absolute, *, domain: str) -> dict[str, Any]:
    """``GET /api/v2/instance`` (Mastodon 4.0+), with ``api_versions`` as a 4.3 server sends it."""
    limits = _limits()
    return {
        "domain": domain,
        "title": INSTANCE_TITLE,
        "version": SANDBOX_VERSION,
        "source_url": absolute(reverse("sandbox:index")),
        "description": escape(INSTANCE_DESCRIPTION),
        "usage": {"users": {"active_month": SandboxPersona.objects.filter(owner__isnull=False).count()}},
        "thumbnail": {"url": absolute(reverse("sandbox:avatar", kwargs={"handle": "sandbox"}))},
        "languages": ["en", "de"],
        "api_versions": {"mastodon": SANDBOX_API_VERSION},
        "configuration": {
            "urls": {"streaming": None, "status": None},
            "vapid": {"public_key": settings.SANDBOX_VAPID_KEY},
            "accounts": limits["accounts"],
            "statuses": limits["statuses"],
            "media_attachments": limits["media_attachments"],
            "polls": limits["polls"],
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "", "account": None},
        "rules": [],
    }


def instance_v1_json(absolute: Absolute, *, domain: str) -> dict[str, Any]:
    """``GET /api/v1/instance``: the older shape (``uri``, ``stats``, a boolean ``registrations``) that
    Mastodon still serves there, and that clients such as Mastodon.py read the version from."""
    limits = _limits()
    members = SandboxPersona.objects.filter(owner__isnull=False).count()
    return {
        "uri": domain,
        "title": INSTANCE_TITLE,
        "short_description": INSTANCE_DESCRIPTION,
        "description": escape(INSTANCE_DESCRIPTION),
        "email": "",
        "version": SANDBOX_VERSION,
        "urls": {"streaming_api": None},
        "stats": {
            "user_count": members,
            "status_count": SandboxStatus.objects.filter(persona__owner__isnull=False).count(),
            "domain_count": 0,
        },
        "thumbnail": absolute(reverse("sandbox:avatar", kwargs={"handle": "sandbox"})),
        "languages": ["en", "de"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": limits["accounts"]["max_featured_tags"]},
            "statuses": limits["statuses"],
            "media_attachments": limits["media_attachments"],
            "polls": limits["polls"],
        },
        "contact_account": None,
        "rules": [],
    }


def oauth_metadata_json(absolute: Absolute) -> dict[str, Any]:
    """RFC 8414 metadata (Mastodon 4.3+ at ``/.well-known/oauth-authorization-server``), for what runs here."""
    return {
        "issuer": absolute(reverse("sandbox:index")),
        "service_documentation": absolute(reverse("sandbox:index")),
        "authorization_endpoint": absolute(reverse("sandbox:authorize")),
        "token_endpoint": absolute(reverse("sandbox:token")),
        "app_registration_endpoint": absolute(reverse("sandbox:apps")),
        "revocation_endpoint": absolute(reverse("sandbox:revoke")),
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
