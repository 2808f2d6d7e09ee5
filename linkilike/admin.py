from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from linkilike.dead_letters import DeadLetterNotRetryable, dead_letter_resolve, dead_letter_retry
from linkilike.models import AuditEvent, DeadLetter, IdempotencyRecord

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "user", "response_status", "created_at")
    list_filter = ("scope", "response_status")
    search_fields = ("key", "user__email")
    readonly_fields = ("user", "key", "scope", "fingerprint", "response_status", "response_body", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: nobody edits or deletes the trail here (the database refuses it anyway)."""

    list_display = ("created_at", "category", "action", "actor_label", "target_label", "target_type", "brand", "reason")
    list_filter = (
        "category",
        "action",
        "target_type",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("brand", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = ("actor_label", "target_id", "target_label", "reason", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("brand",)
    fields = (
        "created_at",
        "category",
        "action",
        "actor",
        "actor_label",
        "target",
        "target_type",
        "target_id",
        "target_label",
        "brand",
        "before",
        "after",
        "reason",
        "request_id",
        "ip_address",
    )
    readonly_fields = fields

    @admin.display(description=_("object in the admin"))
    def target(self, obj: AuditEvent) -> str:
        app_label, _dot, model_name = obj.target_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.target_id])
        except NoReverseMatch:
            return "-"
        return format_html('<a href="{}">{}</a>', url, obj.target_label or obj.target_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, StrOrPromise]]:
        return [("no", _("Open")), ("yes", _("Resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> QuerySet[DeadLetter]:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    """Tasks that failed for good. Fields are read-only; the actions re-enqueue or resolve."""

    list_display = ("last_failed_at", "task_name", "exception_type", "attempts", "first_failed_at", "resolved_at")
    list_filter = (ResolvedFilter, "task_name", "exception_type")
    search_fields = ("task_name", "task_id", "exception_message")
    date_hierarchy = "last_failed_at"
    actions = ("retry_selected", "resolve_selected")
    readonly_fields = (
        "task_name",
        "task_id",
        "args",
        "kwargs",
        "arguments_redacted",
        "exception_type",
        "exception_message",
        "traceback",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        "resolved_at",
        "resolved_by",
        "retried_task_id",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Re-enqueue the selected tasks"), permissions=["change"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        retried = 0
        for letter in queryset:
            try:
                dead_letter_retry(letter=letter, retried_by=request.user)  # type: ignore[arg-type]
            except DeadLetterNotRetryable as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                retried += 1
        if retried:
            self.message_user(
                request,
                ngettext("%(count)d task re-enqueued.", "%(count)d tasks re-enqueued.", retried) % {"count": retried},
                messages.SUCCESS,
            )

    @admin.action(description=_("Mark the selected tasks resolved"), permissions=["change"])
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        for letter in queryset:
            dead_letter_resolve(letter=letter, resolved_by=request.user)  # type: ignore[arg-type]
        count = len(queryset)
        self.message_user(
            request,
            ngettext("%(count)d task marked resolved.", "%(count)d tasks marked resolved.", count) % {"count": count},
            messages.SUCCESS,
        )
