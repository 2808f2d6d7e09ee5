"""Results API: /api/v1/brands/<brand_slug>/campaigns/<pk>/results/ (same numbers as the results tab)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from brands.tenancy import BrandScopedViewSet
from campaigns.models import Campaign
from campaigns.tracking.selectors import Results, Totals, campaign_results_get_for_campaign, page_number


class TotalsOutput(serializers.Serializer):
    shares = serializers.IntegerField()
    reach = serializers.IntegerField(allow_null=True, help_text="network-reported; null = no network reports it")
    impressions = serializers.IntegerField(allow_null=True, help_text="network-reported")
    engagements = serializers.IntegerField(allow_null=True, help_text="network-reported")
    unique_clicks = serializers.IntegerField(
        help_text="measured by Linkilike: the billable clicks, i.e. the clicks paid (or to be paid once their hour is "
        "booked); the others are in clicks_not_billable"
    )
    earned_minor = serializers.IntegerField(help_text="measured (ledger), minor units")


class BreakdownOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(help_text="network name or the influencer's display name")
    totals = TotalsOutput()


class SeriesOutput(serializers.Serializer):
    day = serializers.DateField()
    reach = serializers.IntegerField()
    engagements = serializers.IntegerField()
    unique_clicks = serializers.IntegerField()


class ResultsOutput(serializers.Serializer):
    currency = serializers.CharField()
    totals = TotalsOutput()
    spend_minor = serializers.IntegerField(help_text="measured: earnings + platform fee booked, minor units")
    fee_minor = serializers.IntegerField()
    effective_cpm_minor = serializers.IntegerField(allow_null=True)
    effective_cpe_minor = serializers.IntegerField(allow_null=True)
    effective_cpc_minor = serializers.IntegerField(allow_null=True)
    emv_minor = serializers.IntegerField(help_text="ESTIMATE: earned media value at emv_prices")
    emv_prices = serializers.DictField(child=serializers.IntegerField())
    labels = serializers.DictField(child=serializers.CharField(), help_text="metric -> network | measured | estimated")
    by_network = BreakdownOutput(many=True)
    by_influencer = BreakdownOutput(many=True, help_text="50 per page, most engagements first (?influencer_page=)")
    influencers_total = serializers.IntegerField()
    influencer_page = serializers.IntegerField()
    series = SeriesOutput(many=True)
    participation_minor = serializers.IntegerField(
        help_text="measured (ledger): participation fees booked and not taken back, part of the spend, minor units"
    )
    clicks_not_billable = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="measured: recorded clicks that are not paid, by reason (duplicate, bot, head, prefetch, "
        "velocity_hold, ip_rate, post_removed, over_budget, late)",
    )


LABELS = {
    "reach": "network",
    "impressions": "network",
    "engagements": "network",
    "unique_clicks": "measured",
    "clicks_not_billable": "measured",
    "spend_minor": "measured",
    "participation_minor": "measured",
    "effective_cpm_minor": "network",
    "effective_cpe_minor": "network",
    "effective_cpc_minor": "measured",
    "emv_minor": "estimated",
}


def results_payload(results: Results) -> dict[str, Any]:
    def totals(value: Totals) -> dict[str, Any]:
        return dict(value.__dict__)

    return {
        "currency": results.currency,
        "totals": totals(results.totals),
        "spend_minor": results.spend_minor,
        "fee_minor": results.fee_minor,
        "effective_cpm_minor": results.effective_cpm_minor,
        "effective_cpe_minor": results.effective_cpe_minor,
        "effective_cpc_minor": results.effective_cpc_minor,
        "emv_minor": results.emv_minor,
        "emv_prices": results.emv_prices,
        "labels": LABELS,
        "by_network": [{"key": r.key, "name": r.label, "totals": totals(r.totals)} for r in results.by_network],
        "by_influencer": [{"key": r.key, "name": r.label, "totals": totals(r.totals)} for r in results.by_influencer],
        "influencers_total": results.influencers_total,
        "influencer_page": results.influencer_page,
        "series": [point.__dict__ for point in results.series],
        "clicks_not_billable": results.clicks_not_billable,
        "participation_minor": results.participation_minor,
    }


class CampaignResultsViewSet(BrandScopedViewSet):
    queryset = Campaign.objects.all()

    @extend_schema(summary="Results of one campaign (every number labelled)", responses={200: ResultsOutput})
    def retrieve(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        results = campaign_results_get_for_campaign(
            campaign=campaign, influencer_page=page_number(request.query_params.get("influencer_page"))
        )
        return Response(ResultsOutput(results_payload(results)).data)
