from django.contrib import admin

from brands.models import Brand, Invitation, Membership


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "country", "currency", "category", "is_demo", "created_at")
    list_filter = ("country", "currency", "category", "is_demo")
    # Shown, never edited: only the demo seed makes a demo brand (it opens the sandbox to its campaigns).
    readonly_fields = ("is_demo",)
    search_fields = ("name", "slug", "memberships__user__email")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)
    date_hierarchy = "created_at"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "brand", "role", "created_at")
    list_filter = ("role", "brand")
    search_fields = ("user__email", "brand__name")
    raw_id_fields = ("user", "brand")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "brand", "role", "status", "created_at", "expires_at", "responded_at")
    list_filter = ("status", "role")
    search_fields = ("email", "brand__name")
    raw_id_fields = ("brand", "invited_by", "responded_by")
    readonly_fields = ("nonce",)
    exclude = ("nonce",)
