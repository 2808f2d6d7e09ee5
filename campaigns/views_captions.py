"""Caption approval for the brand: /b/<brand_slug>/campaigns/<pk>/captions/ and a decision per share.

Listing needs ``BrandAction.VIEW`` (analysts see what waits); deciding needs
``BrandAction.APPROVE_CAPTIONS``. Shares are reached through the brand scope
(``campaign__brand``), so another brand's share is 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView
from django.views.generic.detail import SingleObjectMixin

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewMixin
from campaigns import services_captions
from campaigns.errors import CampaignError
from campaigns.models import Campaign, Share
from campaigns.selectors_captions import (
    caption_pending_list_for_campaign,
    caption_recent_decisions_for_campaign,
    share_caption_fit,
)


def _rows(shares: Any) -> list[dict[str, Any]]:
    rows = []
    for share in shares:
        fit = share_caption_fit(share=share)
        rows.append({"share": share, "fits": [fit] if fit else []})
    return rows


class CaptionListView(BrandScopedViewMixin, DetailView):
    model = Campaign
    template_name = "campaigns/captions/list.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign: Campaign = self.object
        context.update(
            rows=_rows(caption_pending_list_for_campaign(campaign=campaign)),
            decided=caption_recent_decisions_for_campaign(campaign=campaign),
            can_decide=self.membership.can(BrandAction.APPROVE_CAPTIONS),
        )
        return context


class CaptionDecisionView(BrandScopedViewMixin, SingleObjectMixin, View):
    model = Share
    brand_lookup = "campaign__brand"
    read_action = BrandAction.APPROVE_CAPTIONS
    write_action = BrandAction.APPROVE_CAPTIONS
    template_name = "campaigns/captions/changes.html"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("campaign", "influencer", "connected_account", "offer")

    def back(self, share: Share) -> HttpResponse:
        return redirect("campaigns:captions", brand_slug=self.brand.slug, pk=share.campaign_id)

    def render_form(self, share: Share, *, feedback: str = "", error: str = "", status: int = 200) -> HttpResponse:
        context = {
            "brand": self.brand,
            "membership": self.membership,
            "campaign": share.campaign,
            "share": share,
            "fits": [fit] if (fit := share_caption_fit(share=share)) else [],
            "feedback": feedback,
            "error": error,
        }
        return render(self.request, self.template_name, context, status=status)


class CaptionApproveView(CaptionDecisionView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share: Share = self.get_object()
        try:
            services_captions.caption_approve(share=share, decided_by=request.user)  # type: ignore[arg-type]
        except CampaignError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Caption of %(name)s approved: the share is ready to be published.")
                % {"name": share.influencer.display_name},
            )
        return self.back(share)


class CaptionChangesView(CaptionDecisionView):
    """GET: the form on its own page (for long feedback or after an error); POST: send the request."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.get_object())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share: Share = self.get_object()
        feedback = request.POST.get("feedback", "")[:2000]
        try:
            services_captions.caption_changes_request(
                share=share,
                decided_by=request.user,  # type: ignore[arg-type]
                feedback=feedback,
            )
        except CampaignError as error:
            return self.render_form(share, feedback=feedback, error=str(error), status=400)
        messages.success(
            request,
            _("Changes requested: %(name)s is notified and can send a new caption.")
            % {"name": share.influencer.display_name},
        )
        return self.back(share)
