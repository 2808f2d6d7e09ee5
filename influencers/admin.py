from django.contrib import admin

from influencers.models import InfluencerProfile, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("slug", "label")
    search_fields = ("slug",)


@admin.register(InfluencerProfile)
class InfluencerProfileAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user", "country", "tax_status", "terms_accepted_at", "created_at")
    list_filter = ("country", "tax_status", "topics")
    search_fields = ("display_name", "user__email")
    filter_horizontal = ("topics",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
