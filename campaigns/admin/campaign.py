"""Platform staff review campaigns here: a queue filtered by status, submitted date and brand,
approve/reject actions (reject asks for a reason on an intermediate page), content previews."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brands.forms import CURRENCY_CHOICES
from campaigns import services
from campaigns.earnings.pricing import participation_bands, participation_bands_problems
from campaigns.errors import CampaignError, CampaignFundsError
from campaigns.forms import RejectForm
from campaigns.models import Campaign, CampaignStatus, CaptionVariant, ContentPiece, Notification

LIFECYCLE_FIELDS = (
    "brand",
    "slug",
    "status",
    "created_by",
    "submitted_at",
    "reviewed_at",
    "reviewed_by",
    "rejection_reason",
    "approved_at",
    "closed_at",
    "archived_at",
    "created_at",
    "updated_at",
)


def _thumbnail(piece: ContentPiece) -> str:
    if piece.thumbnail:
        return format_html('<img src="{}" alt="" width="96" height="96" class="campaign-thumb">', piece.thumbnail.url)
    if piece.media:
        return format_html('<a href="{}">{}</a>', piece.media.url, _("video"))
    return "-"


class ContentPieceInline(admin.StackedInline):
    model = ContentPiece
    extra = 0
    can_delete = False
    fields = ("preview", "title", "target_url", "hashtags", "media_kind", "media_size", "captions")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, piece: ContentPiece) -> str:
        return _thumbnail(piece)

    @admin.display(description=gettext_lazy("texts"))
    def captions(self, piece: ContentPiece) -> str:
        items = format_html_join("", "<li>[{}] {}</li>", ((v.language, v.text) for v in piece.variants.all()))
        return format_html("<ol>{}</ol>", items)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown and editable

    def clean_participation_bands(self) -> Any:
        raw = self.cleaned_data.get("participation_bands") or []
        bands = participation_bands(raw)
        if not isinstance(raw, list) or len(bands) != len(raw):
            raise forms.ValidationError(_('Give each band as {"up_to": followers or null, "fee_minor": amount}.'))
        problems = participation_bands_problems(bands)
        if problems:
            raise forms.ValidationError(problems)
        return [{"up_to": band.up_to, "fee_minor": band.fee_minor} for band in bands]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = ("name", "brand", "status", "submitted_at", "budget", "starts_at", "ends_at", "networks_list")
    list_filter = ("status", ("submitted_at", admin.DateFieldListFilter), "brand")
    search_fields = ("name", "slug", "brand__name")
    ordering = ("-submitted_at", "-created_at")
    date_hierarchy = "submitted_at"
    readonly_fields = LIFECYCLE_FIELDS
    filter_horizontal = ("topics",)
    inlines = (ContentPieceInline,)
    actions = ("approve_selected", "reject_selected")
    fieldsets = (
        (None, {"fields": ("name", "brand", "slug", "status", "review_checklist", "brief")}),
        (
            gettext_lazy("Money"),
            {
                "fields": (
                    "currency",
                    "budget_minor",
                    "cpm_minor",
                    "cpe_minor",
                    "cpc_minor",
                    "participation_fee_minor",
                    "participation_bands",
                    "per_share_cap_minor",
                    "platform_fee_bps",
                )
            },
        ),
        (gettext_lazy("Dates"), {"fields": ("starts_at", "ends_at", "requires_caption_approval")}),
        (
            gettext_lazy("Targeting and disclosure"),
            {
                "fields": (
                    "networks",
                    "languages",
                    "disclosures",
                    "topics",
                    "countries",
                    "followers_min",
                    "followers_max",
                    "min_engagement_rate",
                )
            },
        ),
        (
            gettext_lazy("Review"),
            {
                "fields": (
                    "created_by",
                    "submitted_at",
                    "reviewed_at",
                    "reviewed_by",
                    "rejection_reason",
                    "approved_at",
                    "closed_at",
                    "archived_at",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # brands create campaigns; staff review them

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "currency":  # a list, as in the brand's own form: never free text
            return forms.ChoiceField(label=db_field.verbose_name, choices=CURRENCY_CHOICES)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the lifecycle (cancel, archive) and the ledger keep history; brands delete their own drafts

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status not in (CampaignStatus.DRAFT, CampaignStatus.IN_REVIEW):
            # Approved money is reserved in the ledger: changing terms afterwards would break it.
            return [f for fs in self.fieldsets for f in fs[1]["fields"]]
        return (*LIFECYCLE_FIELDS, "review_checklist")

    @admin.display(description=gettext_lazy("review checklist"))
    def review_checklist(self, campaign: Campaign) -> str:
        problems = services.campaign_problems(campaign=campaign)
        if not problems:
            return _("Complete; every caption fits every targeted network.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p,) for p in problems)))

    @admin.display(description=gettext_lazy("budget"), ordering="budget_minor")
    def budget(self, campaign: Campaign) -> str:
        return f"{campaign.budget_minor / 100:,.2f} {campaign.currency}"

    @admin.display(description=gettext_lazy("networks"))
    def networks_list(self, campaign: Campaign) -> str:
        return ", ".join(campaign.networks)

    @admin.action(description=gettext_lazy("Approve selected campaigns (reserves their budget)"))
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            try:
                services.campaign_approve(campaign=campaign, reviewed_by=request.user)  # type: ignore[arg-type]
            except CampaignFundsError as error:
                # The approval rolled back; the brand hears why (page and email), or nothing waits on it.
                told = services.campaign_funds_needed_notify(campaign=campaign) is not None
                self.message_user(
                    request,
                    (
                        _("“%(name)s” was not approved: %(error)s The brand was told by email and on its overview.")
                        if told
                        else _("“%(name)s” was not approved: %(error)s")
                    )
                    % {"name": campaign.name, "error": error},
                    messages.ERROR,
                )
            except CampaignError as error:
                self.message_user(
                    request,
                    _("“%(name)s” was not approved: %(error)s") % {"name": campaign.name, "error": error},
                    messages.ERROR,
                )
            else:
                self.message_user(request, _("“%(name)s” approved.") % {"name": campaign.name}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Reject selected campaigns (asks for a reason)"))
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> HttpResponse | None:
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            for campaign in queryset:
                try:
                    services.campaign_reject(
                        campaign=campaign,
                        reviewed_by=request.user,  # type: ignore[arg-type]
                        reason=form.cleaned_data["reason"],
                    )
                except CampaignError as error:
                    self.message_user(
                        request,
                        _("“%(name)s” was not rejected: %(error)s") % {"name": campaign.name, "error": error},
                        messages.ERROR,
                    )
                else:
                    self.message_user(request, _("“%(name)s” rejected.") % {"name": campaign.name}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject campaigns"),
            "campaigns": queryset,
            "form": form,
            "opts": self.model._meta,
            "action_name": "reject_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "campaigns/admin/reject.html", context)


@admin.register(ContentPiece)
class ContentPieceAdmin(admin.ModelAdmin):
    list_display = ("title", "preview", "campaign", "media_kind", "created_at")
    list_filter = ("media_kind", "campaign__status", "campaign__brand")
    search_fields = ("title", "campaign__name", "target_url")
    raw_id_fields = ("campaign",)
    readonly_fields = ("preview", "media_kind", "media_size", "thumbnail", "media")

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, piece: ContentPiece) -> str:
        return _thumbnail(piece)


@admin.register(CaptionVariant)
class CaptionVariantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "language", "content")
    list_filter = ("language",)
    search_fields = ("text", "content__title", "content__campaign__name")
    raw_id_fields = ("content",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("message", "brand", "kind", "created_at", "read_at")
    list_filter = ("kind", "brand")
    search_fields = ("message", "brand__name", "campaign__name")
    raw_id_fields = ("brand", "campaign")
