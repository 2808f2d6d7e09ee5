"""Campaign results and shares tabs, the CSV export and the results API. Thin: selectors do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic.detail import SingleObjectMixin

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewMixin
from campaigns.earnings.selectors_participation import share_participation
from campaigns.errors import CampaignError
from campaigns.forms import MoneyField
from campaigns.models import Campaign, Share
from campaigns.publishing.selectors import share_state_get
from campaigns.tracking.chart import SmallChart, small_chart
from campaigns.tracking.selectors import (
    Results,
    campaign_results_get_for_campaign,
    emv_prices_for_campaign,
    page_number,
    share_list_for_campaign,
    share_results_rows,
)
from campaigns.tracking.selectors_timing import results_timing_get_for_campaign
from campaigns.tracking.services import campaign_emv_prices_update
from linkilike.csv_export import csv_response

SHARES_PER_PAGE = 50
SHARE_STATE_PARTIAL = "campaigns/partials/share_state.html"
SHARE_STATE_FALLBACK = "campaigns/partials/share_state_basic.html"


def results_charts(results: Results) -> list[SmallChart]:
    series = results.series
    charts = [
        small_chart(
            key="reach",
            label=_("Reach"),
            badge="network",
            rows=[(point.day, point.reach) for point in series],
        ),
        small_chart(
            key="engagements",
            label=_("Engagements"),
            badge="network",
            rows=[(point.day, point.engagements) for point in series],
        ),
        small_chart(
            key="clicks",
            label=_("Billable clicks"),
            badge="measured",
            rows=[(point.day, point.unique_clicks) for point in series],
        ),
    ]
    return [chart for chart in charts if chart is not None]


def share_rows(shares: Any) -> list[dict[str, Any]]:
    """Each share with the publishing pipeline's state view (label, tone, post link, reason), and
    where its participation fee stands (``shares_with_participation`` annotates the queryset)."""
    return [
        {"share": share, "view": share_state_get(share=share), "participation": share_participation(share)}
        for share in shares
    ]


def share_state_template() -> str:
    """The publishing pipeline's state partial when it exists, else a basic one."""
    try:
        get_template(SHARE_STATE_PARTIAL)
    except TemplateDoesNotExist:
        return SHARE_STATE_FALLBACK
    return SHARE_STATE_PARTIAL


def campaign_tab_context(*, campaign: Campaign, tab: str, request: HttpRequest) -> dict[str, Any]:
    """Context of the "shares" and "results" tabs of the campaign detail page."""
    if tab == "results":
        results = campaign_results_get_for_campaign(
            campaign=campaign, influencer_page=page_number(request.GET.get("influencers"))
        )
        form = EmvPricesForm(initial=emv_prices_for_campaign(campaign=campaign))
        return {
            "results": results,
            "charts": results_charts(results),
            "emv_form": form,
            "timing": results_timing_get_for_campaign(campaign=campaign),
        }
    if tab == "shares":
        page = Paginator(share_list_for_campaign(campaign=campaign), SHARES_PER_PAGE).get_page(request.GET.get("page"))
        return {
            "share_page": page,
            "share_rows": share_rows(page.object_list),
            "share_state_template": share_state_template(),
        }
    return {}


class CampaignResultsExportView(BrandScopedViewMixin, SingleObjectMixin, View):
    """CSV: one row per share with its latest network-reported counts, measured clicks, earnings (and what of
    them is still on hold, until when), the platform fee and the spend."""

    model = Campaign
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        campaign = self.get_object()
        rows = share_results_rows(
            shares=Share.objects.filter(campaign=campaign), currency=campaign.currency, with_costs=True
        )
        stamp = timezone.now().strftime("%Y%m%d")
        return csv_response(rows, filename=f"linkilike-results-{campaign.slug}-{stamp}.csv")


class EmvPricesForm(forms.Form):
    impressions = MoneyField(label=_("Per 1,000 impressions"), max_value=10_000)
    engagements = MoneyField(label=_("Per engagement"), max_value=10_000)
    clicks = MoneyField(label=_("Per unique click"), max_value=10_000)


class CampaignEmvPricesView(BrandScopedViewMixin, SingleObjectMixin, View):
    """POST: the prices behind the earned-media-value estimate on the results tab."""

    model = Campaign
    http_method_names = ["post"]
    write_action = BrandAction.EDIT_CAMPAIGNS

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        campaign = self.get_object()
        form = EmvPricesForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("Prices must be amounts between 0 and 10,000."))
        else:
            try:
                campaign_emv_prices_update(
                    campaign=campaign,
                    impressions_minor=form.cleaned_data["impressions"],
                    engagements_minor=form.cleaned_data["engagements"],
                    clicks_minor=form.cleaned_data["clicks"],
                )
            except CampaignError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, gettext("Earned media value prices saved."))
        url = reverse("campaigns:detail", kwargs={"brand_slug": self.brand.slug, "pk": campaign.pk})
        return HttpResponseRedirect(f"{url}?tab=results")
