from django.contrib import admin

from linkilike.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key", "scope", "user", "response_status", "created_at")
    list_filter = ("scope", "response_status")
    search_fields = ("key", "user__email")
    readonly_fields = ("user", "key", "scope", "fingerprint", "response_status", "response_body", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
