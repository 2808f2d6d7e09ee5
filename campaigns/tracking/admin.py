"""Admin for tracking links, clicks and share holds (imported by the ``campaigns.admin`` package).

Clicks are read-only evidence; holds are released with an admin action (F2 review).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from campaigns.models import Click, ShareHold, TrackingLink
from campaigns.tracking.services import share_hold_release


@admin.register(TrackingLink)
class TrackingLinkAdmin(admin.ModelAdmin):
    list_display = ("code", "share", "target_url", "created_at")
    list_filter = ("share__campaign__brand",)
    search_fields = ("code", "target_url", "share__campaign__name", "share__influencer__display_name")
    raw_id_fields = ("share",)
    readonly_fields = ("code", "created_at")


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "link", "billable", "reason", "ua_family", "referrer_host", "accrued_at")
    list_filter = ("billable", "reason", "ua_family")
    search_fields = ("link__code", "ip_hash", "referrer_host")
    raw_id_fields = ("link",)
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Click | None = None) -> bool:
        return False


@admin.register(ShareHold)
class ShareHoldAdmin(admin.ModelAdmin):
    list_display = ("share", "reason", "detail", "created_at", "released_at", "released_by")
    list_filter = ("reason", ("released_at", admin.EmptyFieldListFilter))
    search_fields = ("share__campaign__name", "share__influencer__display_name", "detail")
    raw_id_fields = ("share", "released_by")
    readonly_fields = ("released_at", "released_by", "created_at")
    actions = ("release",)

    @admin.action(description=gettext_lazy("Release: the share earns from clicks again"))
    def release(self, request: HttpRequest, queryset: QuerySet[ShareHold]) -> None:
        count = 0
        for hold in queryset.filter(released_at__isnull=True):
            share_hold_release(hold=hold, released_by=request.user)  # type: ignore[arg-type]
            count += 1
        messages.success(
            request, ngettext("%(count)s hold released.", "%(count)s holds released.", count) % {"count": count}
        )
