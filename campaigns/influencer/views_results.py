"""The influencer's own results: reach, engagement, clicks and earnings of each of their shares."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from campaigns.earnings.selectors_participation import shares_with_participation
from campaigns.models import Share
from campaigns.tracking.selectors import influencer_results_get_for_influencer, share_results_rows, shares_with_results
from campaigns.tracking.selectors_timing import results_timing_get_for_influencer
from campaigns.views_results import results_charts, share_rows, share_state_template
from influencers.ownership import InfluencerOwnedViewMixin
from linkilike.csv_export import csv_response


class InfluencerResultsView(InfluencerOwnedViewMixin, ListView):
    model = Share
    template_name = "influencers/results.html"
    context_object_name = "shares"
    paginate_by = 50

    def refine_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            shares_with_participation(shares_with_results(queryset))
            .select_related("campaign", "campaign__brand", "connected_account", "publication", "tracking_link")
            .order_by("-created_at", "-pk")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        results = influencer_results_get_for_influencer(influencer=self.influencer)
        context.update(
            results=results,
            charts=results_charts(results),
            share_rows=share_rows(context["shares"]),
            share_state_template=share_state_template(),
            timing=results_timing_get_for_influencer(influencer=self.influencer),
        )
        return context


class InfluencerResultsExportView(InfluencerOwnedViewMixin, View):
    model = Share
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        rows = share_results_rows(shares=self.get_queryset(), currency="")
        return csv_response(rows, filename=f"linkilike-my-results-{timezone.now():%Y%m%d}.csv")
