"""Admin for publications (UNKNOWN ones are staff's to resolve) and metric snapshots. Tokens never shown."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from campaigns.models import MetricSnapshot, SharePublication
from campaigns.publishing import services
from campaigns.publishing.errors import PublishingError
from campaigns.publishing.proof import proof_review_decide


class ProofRefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the influencer sees it)"), widget=forms.Textarea(attrs={"rows": 4}), max_length=1000
    )


@admin.register(SharePublication)
class SharePublicationAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "share",
        "state",
        "attempt",
        "external_url",
        "proof_url",
        "proof_verified_by",
        "published_at",
        "error_code",
        "next_attempt_at",
        "updated_at",
    )
    list_filter = (
        "state",
        "proof_verified_by",
        "retry_safe",
        "network_handle_kind",
        "share__connected_account__network",
    )
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
        "proof_submitted_at",
        "proof_checked_at",
        "proof_verified_by",
        "proof_reviewed_at",
        "proof_reviewed_by",
        "retention_checked_at",
        "retained_at",
        "removed_at",
        "created_at",
        "updated_at",
    )
    actions = ("resolve_by_asking_the_network", "spot_check_verified", "spot_check_refused")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # --- the proof-of-post spot-check queue ("you post, we verify"; campaigns.publishing.proof) ---------------

    @admin.action(description=_("Spot-check: the post is up, public, with disclosure and link (verify)"))
    def spot_check_verified(self, request: HttpRequest, queryset: QuerySet[SharePublication]) -> None:
        self._spot_check(request, queryset, verified=True, reason="")

    @admin.action(description=_("Spot-check: refuse the post (asks for a reason)"))
    def spot_check_refused(self, request: HttpRequest, queryset: QuerySet[SharePublication]) -> HttpResponse | None:
        form = ProofRefuseForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._spot_check(request, queryset, verified=False, reason=form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refuse posts"),
            "publications": queryset.select_related("share__connected_account"),
            "form": form,
            "opts": self.model._meta,
            "action_name": "spot_check_refused",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "campaigns/admin/proof_refuse.html", context)

    def _spot_check(
        self, request: HttpRequest, queryset: QuerySet[SharePublication], *, verified: bool, reason: str
    ) -> None:
        for publication_id in queryset.values_list("pk", flat=True):
            try:
                proof_review_decide(
                    publication_id=publication_id,
                    staff=request.user,  # type: ignore[arg-type]
                    verified=verified,
                    reason=reason,
                )
            except PublishingError as error:
                self.message_user(request, f"{publication_id}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    (_("Publication %(id)s verified.") if verified else _("Publication %(id)s refused."))
                    % {"id": publication_id},
                    messages.SUCCESS,
                )

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
class MetricSnapshotAdmin(admin.ModelAdmin):
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
