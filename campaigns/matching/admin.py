"""The moderation queue: proposed matches with their explanation, filters, bulk approve / reject.

Imported by the ``campaigns.admin`` package (admin autodiscovery only imports ``<app>.admin``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns.errors import CampaignError
from campaigns.matching import services
from campaigns.matching.engine import explanation_render
from campaigns.matching.selectors import conflict_text
from campaigns.models import Match, ModerationEvent, Offer, Share
from networks.providers.registry import network_choices


class MatchRejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (kept in the audit trail)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class ScoreBucketFilter(admin.SimpleListFilter):
    title = gettext_lazy("score")
    parameter_name = "score_range"
    BUCKETS = {"high": (700, 1001), "good": (500, 700), "fair": (300, 500), "low": (0, 300)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("high", gettext_lazy("700 and more")),
            ("good", gettext_lazy("500-699")),
            ("fair", gettext_lazy("300-499")),
            ("low", gettext_lazy("below 300")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        bucket = self.BUCKETS.get(self.value() or "")
        if bucket is None:
            return queryset
        return queryset.filter(score__gte=bucket[0], score__lt=bucket[1])


class HasConflictsFilter(admin.SimpleListFilter):
    title = gettext_lazy("conflicts")
    parameter_name = "conflicts"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", gettext_lazy("Has conflicts")), ("no", gettext_lazy("No conflicts"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.exclude(conflict_flags=[])
        if self.value() == "no":
            return queryset.filter(conflict_flags=[])
        return queryset


class NetworkFilter(admin.SimpleListFilter):
    """Influencers with a connected account on the network."""

    title = gettext_lazy("network")
    parameter_name = "network"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return sorted(network_choices(), key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        return queryset.filter(Q(influencer__connected_accounts__network=self.value())).distinct()


class CountryFilter(admin.SimpleListFilter):
    """Only the countries of influencers that actually have matches (not the whole world)."""

    title = gettext_lazy("country")
    parameter_name = "country"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        from django_countries import countries

        codes = (
            Match.objects.exclude(influencer__country="")
            .values_list("influencer__country", flat=True)
            .distinct()
            .order_by("influencer__country")
        )
        return [(code, countries.name(code) or code) for code in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        return queryset.filter(influencer__country=self.value())


class ModerationEventInline(admin.TabularInline):
    model = ModerationEvent
    fk_name = "match"
    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "action", "before", "after", "reason")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    # Who, for which campaign and where it stands first: at 1280 px the trailing columns were cut off, so
    # two matches of one influencer looked like duplicates. Conflicts head the "why" cell (and have a filter).
    list_display = ("influencer", "campaign_brand", "status", "points", "why")
    list_display_links = ("influencer",)
    list_filter = (
        "status",
        ScoreBucketFilter,
        HasConflictsFilter,
        NetworkFilter,
        ("campaign", admin.RelatedOnlyFieldListFilter),
        ("campaign__brand", admin.RelatedOnlyFieldListFilter),
        CountryFilter,
    )
    search_fields = ("influencer__display_name", "campaign__name", "campaign__brand__name")
    list_select_related = ("influencer", "campaign", "campaign__brand")
    ordering = ("-score", "pk")
    list_per_page = 50
    actions = ("approve_selected", "reject_selected")
    inlines = (ModerationEventInline,)
    fields = (
        "campaign",
        "influencer",
        "status",
        "score",
        "why",
        "explanation",
        "score_parts",
        "conflicts",
        "decided_by",
        "decided_at",
        "decision_reason",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions go through the actions, so each one is audited

    class Media:
        css = {"all": ("css/matching-admin.css",)}

    @admin.display(description=gettext_lazy("campaign (brand)"), ordering="campaign__name")
    def campaign_brand(self, match: Match) -> str:
        return f"{match.campaign.name} ({match.campaign.brand.name})"

    @admin.display(description=gettext_lazy("country"), ordering="influencer__country")
    def country(self, match: Match) -> str:
        return str(match.influencer.country or "-")

    @admin.display(description=gettext_lazy("score"), ordering="score")
    def points(self, match: Match) -> int:
        return match.score

    @admin.display(description=gettext_lazy("why"))
    def why(self, match: Match) -> str:
        try:
            text = explanation_render(match.score_parts)
        except (KeyError, TypeError):
            text = match.explanation
        parts = format_html_join(mark_safe("<br>"), "{}", ((part,) for part in text.split("; ")))
        if not match.conflict_flags:
            return parts
        return format_html("{}<br>{}", self.conflicts(match), parts)

    @admin.display(description=gettext_lazy("conflicts"))
    def conflicts(self, match: Match) -> str:
        if not match.conflict_flags:
            return "-"
        return format_html('<strong class="errornote">{}</strong>', conflict_text(match.conflict_flags))

    @admin.action(description=gettext_lazy("Approve selected matches (creates offers, emails influencers)"))
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Match]) -> None:
        approved = 0
        for match in queryset.select_related("influencer", "campaign"):
            try:
                services.match_approve(match=match, decided_by=request.user)  # type: ignore[arg-type]
            except CampaignError as error:
                self.message_user(
                    request,
                    _("%(influencer)s for “%(campaign)s” was not approved: %(error)s")
                    % {"influencer": match.influencer, "campaign": match.campaign, "error": error},
                    messages.ERROR,
                )
            else:
                approved += 1
        if approved:
            self.message_user(
                request,
                ngettext(
                    "%(count)s match approved; the influencer gets the offer by email.",
                    "%(count)s matches approved; the influencers get their offers by email.",
                    approved,
                )
                % {"count": approved},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("Reject selected matches (asks for a reason)"))
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Match]) -> HttpResponse | None:
        form = MatchRejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            rejected = 0
            for match in queryset.select_related("influencer", "campaign"):
                try:
                    services.match_reject(
                        match=match,
                        decided_by=request.user,  # type: ignore[arg-type]
                        reason=form.cleaned_data["reason"],
                    )
                except CampaignError as error:
                    self.message_user(
                        request,
                        _("%(influencer)s for “%(campaign)s” was not rejected: %(error)s")
                        % {"influencer": match.influencer, "campaign": match.campaign, "error": error},
                        messages.ERROR,
                    )
                else:
                    rejected += 1
            if rejected:
                self.message_user(
                    request,
                    ngettext("%(count)s match rejected.", "%(count)s matches rejected.", rejected)
                    % {"count": rejected},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject matches"),
            "intro": _("The reason stays in the audit trail. The influencer is not told about rejected matches."),
            "labels": [
                f"{m.influencer.display_name} · {m.campaign.name} ({m.score}, {m.get_status_display()})"
                for m in queryset.select_related("influencer", "campaign")
            ],
            "selected_pks": [m.pk for m in queryset],
            "submit_label": _("Reject"),
            "form": form,
            "opts": self.model._meta,
            "action_name": "reject_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "campaigns/admin/match_reject.html", context)


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("influencer", "campaign", "status", "created_at", "expires_at", "accepted_at", "notified_at")
    list_filter = ("status", ("campaign", admin.RelatedOnlyFieldListFilter), "campaign__brand")
    search_fields = ("influencer__display_name", "campaign__name", "campaign__brand__name")
    list_select_related = ("influencer", "campaign")
    actions = ("withdraw_selected",)
    readonly_fields = (
        "match",
        "campaign",
        "influencer",
        "status",
        "decline_reason",
        "expires_at",
        "accepted_at",
        "declined_at",
        "closed_at",
        "notified_at",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Withdraw selected new offers (asks for a reason)"))
    def withdraw_selected(self, request: HttpRequest, queryset: QuerySet[Offer]) -> HttpResponse | None:
        form = MatchRejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            for offer in queryset.select_related("influencer", "campaign"):
                try:
                    services.offer_withdraw(
                        offer=offer,
                        decided_by=request.user,  # type: ignore[arg-type]
                        reason=form.cleaned_data["reason"],
                    )
                except CampaignError as error:
                    self.message_user(
                        request,
                        _("%(influencer)s for “%(campaign)s” was not withdrawn: %(error)s")
                        % {"influencer": offer.influencer, "campaign": offer.campaign, "error": error},
                        messages.ERROR,
                    )
                else:
                    self.message_user(
                        request,
                        _("Offer to %(influencer)s withdrawn.") % {"influencer": offer.influencer},
                        messages.SUCCESS,
                    )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Withdraw offers"),
            "intro": _("The reason stays in the audit trail. Only new offers can be withdrawn."),
            "labels": [
                f"{o.influencer.display_name} · {o.campaign.name} ({o.get_status_display()})"
                for o in queryset.select_related("influencer", "campaign")
            ],
            "selected_pks": [o.pk for o in queryset],
            "submit_label": _("Withdraw"),
            "form": form,
            "opts": self.model._meta,
            "action_name": "withdraw_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "campaigns/admin/match_reject.html", context)


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ("influencer", "campaign", "connected_account", "status", "caption_status", "scheduled_at")
    list_filter = ("status", "caption_status", "connected_account__network", "campaign__brand")
    search_fields = ("influencer__display_name", "campaign__name", "caption_text")
    list_select_related = ("influencer", "campaign", "connected_account")
    readonly_fields = (
        "offer",
        "campaign",
        "influencer",
        "connected_account",
        "caption_text",
        "caption_status",
        "brand_feedback",
        "caption_decided_by",
        "caption_decided_at",
        "scheduled_at",
        "participation_fee_minor",
        "status",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "match", "offer", "share", "before", "after", "reason")
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter))
    search_fields = ("reason", "match__influencer__display_name", "match__campaign__name")
    list_select_related = (
        "actor",
        "match__influencer",
        "match__campaign",
        "offer__influencer",
        "offer__campaign",
        "share",
    )
    readonly_fields = ("created_at", "actor", "action", "match", "offer", "share", "before", "after", "reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
