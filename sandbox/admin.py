"""Admin for the sandbox network. Secrets (client secrets, code and token digests) are never shown."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from sandbox.models import (
    SandboxAccessToken,
    SandboxApp,
    SandboxAuthorizationCode,
    SandboxExposure,
    SandboxFollow,
    SandboxIdempotencyKey,
    SandboxInteraction,
    SandboxMedia,
    SandboxPersona,
    SandboxScheduledStatus,
    SandboxStatus,
)


@admin.register(SandboxPersona)
class SandboxPersonaAdmin(admin.ModelAdmin):
    list_display = ("handle", "display_name", "owner", "activity", "created_at")
    list_filter = (("owner", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("handle", "display_name", "owner__email")
    raw_id_fields = ("owner",)


@admin.register(SandboxFollow)
class SandboxFollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "followee", "created_at")
    list_filter = ("created_at",)
    search_fields = ("follower__handle", "followee__handle")
    raw_id_fields = ("follower", "followee")


@admin.register(SandboxApp)
class SandboxAppAdmin(admin.ModelAdmin):
    list_display = ("name", "website", "scopes", "created_at")
    list_filter = ("created_at",)
    search_fields = ("name", "website")
    fields = ("name", "website", "redirect_uris", "scopes", "created_at")
    readonly_fields = ("created_at",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(SandboxAuthorizationCode)
class SandboxAuthorizationCodeAdmin(admin.ModelAdmin):
    list_display = ("app", "persona", "scopes", "created_at", "expires_at", "used_at")
    list_filter = ("created_at", ("used_at", admin.EmptyFieldListFilter))
    search_fields = ("persona__handle", "app__name")
    fields = (
        "app",
        "persona",
        "redirect_uri",
        "scopes",
        "code_challenge_method",
        "created_at",
        "expires_at",
        "used_at",
    )
    readonly_fields = fields


@admin.register(SandboxAccessToken)
class SandboxAccessTokenAdmin(admin.ModelAdmin):
    list_display = ("persona", "app", "scopes", "created_at", "revoked_at")
    list_filter = ("created_at", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("persona__handle", "app__name")
    fields = ("app", "persona", "scopes", "created_at", "revoked_at")
    readonly_fields = ("app", "persona", "scopes", "created_at")


class MediaInline(admin.TabularInline):
    model = SandboxMedia
    fields = ("file", "content_type", "description", "width", "height", "ready_at")
    readonly_fields = fields
    extra = 0


@admin.register(SandboxStatus)
class SandboxStatusAdmin(admin.ModelAdmin):
    list_display = ("id", "persona", "visibility", "created_at", "favourites_count", "reblogs_count", "replies_count")
    list_filter = ("visibility", "sensitive", "created_at")
    search_fields = ("persona__handle", "text", "spoiler_text")
    raw_id_fields = ("persona", "in_reply_to", "reblog_of")
    readonly_fields = ("favourites_count", "reblogs_count", "replies_count", "quotes_count")
    inlines = (MediaInline,)


@admin.register(SandboxScheduledStatus)
class SandboxScheduledStatusAdmin(admin.ModelAdmin):
    list_display = ("id", "persona", "scheduled_at", "created_at")
    list_filter = ("scheduled_at",)
    search_fields = ("persona__handle",)
    raw_id_fields = ("persona",)
    readonly_fields = ("params", "application_name", "created_at")


@admin.register(SandboxIdempotencyKey)
class SandboxIdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("persona", "key", "status_id", "scheduled_status_id", "created_at")
    list_filter = ("created_at",)
    search_fields = ("persona__handle", "key")
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SandboxMedia)
class SandboxMediaAdmin(admin.ModelAdmin):
    list_display = ("id", "persona", "status", "width", "height", "created_at", "ready_at")
    list_filter = ("created_at",)
    search_fields = ("persona__handle", "description")
    raw_id_fields = ("persona", "status", "scheduled_status")
    # File and type are set only by media_upload, which names the file after its sniffed type.
    readonly_fields = ("file", "content_type", "width", "height", "size")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SandboxInteraction)
class SandboxInteractionAdmin(admin.ModelAdmin):
    list_display = ("status", "persona", "kind", "created_at")
    list_filter = ("kind", "created_at")
    search_fields = ("persona__handle", "text")
    raw_id_fields = ("status", "persona")


@admin.register(SandboxExposure)
class SandboxExposureAdmin(admin.ModelAdmin):
    list_display = ("status", "persona", "degree", "via", "exposed_at", "seen_at", "processed_at")
    list_filter = ("degree", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("persona__handle",)
    raw_id_fields = ("status", "persona", "via")
