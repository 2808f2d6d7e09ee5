"""Admin for publications (UNKNOWN ones are staff's to resolve) and metric snapshots. Tokens never shown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from campaigns.models import MetricSnapshot, SharePublication
from campaigns.publishing import services


@admin.register(SharePublication)
class SharePublicationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "pk",
        "share",
        "state",
        "attempt",
        "external_url",
        "published_at",
        "error_code",
        "next_attempt_at",
        "updated_at",
    )
    list_filter = ("state", "retry_safe", "network_handle_kind", "share__connected_account__network")
    search_fields = (
        "external_id",
        "external_url",
        "idempotency_key",
        "share__campaign__name",
        "share__influencer__display_name",
    )
    list_select_related = ("share__campaign", "share__connected_account")
    raw_id_fields = ("share",)
    readonly_fields = (
        "share",
        "state",
        "attempt",
        "attempt_id",
        "lease_expires_at",
        "idempotency_key",
        "network_handle",
        "network_handle_kind",
        "handle_stored_at",
        "posted_text",
        "external_id",
        "external_url",
        "published_at",
        "last_error",
        "error_code",
        "next_attempt_at",
        "retry_safe",
        "auth_refreshed",
        "proof_url",
        "proof_checked_at",
        "retention_checked_at",
        "retained_at",
        "removed_at",
        "created_at",
        "updated_at",
    )
    actions = ("resolve_by_asking_the_network",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Resolve by asking the network (never posts again)"))
    def resolve_by_asking_the_network(self, request: HttpRequest, queryset: QuerySet[SharePublication]) -> None:
        results: dict[str, int] = {}
        for publication_id in queryset.values_list("pk", flat=True):
            state = services.publication_resolve(publication_id=publication_id, staff=True).state
            results[state] = results.get(state, 0) + 1
        summary = ", ".join(f"{state}: {count}" for state, count in sorted(results.items()))
        self.message_user(
            request,
            ngettext(
                "%(n)d publication checked (%(summary)s).",
                "%(n)d publications checked (%(summary)s).",
                sum(results.values()),
            )
            % {"n": sum(results.values()), "summary": summary or "-"},
            messages.INFO,
        )


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "share",
        "window",
        "collected_at",
        "impressions",
        "reach",
        "likes",
        "reposts",
        "replies",
        "engagements",
        "post_exists",
    )
    list_filter = ("window", "post_exists", "source")
    search_fields = ("share__campaign__name", "share__influencer__display_name")
    list_select_related = ("share__campaign",)
    raw_id_fields = ("share",)
