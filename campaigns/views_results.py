"""Campaign results and shares tabs, the CSV export and the results API. Thin: selectors do the work."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic.detail import SingleObjectMixin

from brands.tenancy import BrandScopedViewMixin
from campaigns.models import Campaign, Share
from campaigns.tracking.chart import SmallChart, small_chart
from campaigns.tracking.selectors import (
    Results,
    campaign_results_get_for_campaign,
    share_list_for_campaign,
    share_results_rows,
)

SHARES_PER_PAGE = 50
SHARE_STATE_PARTIAL = "campaigns/partials/share_state.html"
SHARE_STATE_FALLBACK = "campaigns/partials/share_state_basic.html"


class _Echo:
    def write(self, value: str) -> str:
        return value


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
            label=_("Unique clicks"),
            badge="measured",
            rows=[(point.day, point.unique_clicks) for point in series],
        ),
    ]
    return [chart for chart in charts if chart is not None]


def share_rows(shares: Any) -> list[dict[str, Any]]:
    """Each share with the publishing pipeline's state view (label, tone, post link, reason) when available."""
    try:
        from campaigns.publishing.selectors import share_state_get
    except ImportError:  # the publishing pipeline is not installed: the basic partial reads the share
        return [{"share": share, "view": None} for share in shares]
    return [{"share": share, "view": share_state_get(share=share)} for share in shares]


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
        results = campaign_results_get_for_campaign(campaign=campaign)
        return {"results": results, "charts": results_charts(results)}
    if tab == "shares":
        page = Paginator(share_list_for_campaign(campaign=campaign), SHARES_PER_PAGE).get_page(request.GET.get("page"))
        return {
            "share_page": page,
            "share_rows": share_rows(page.object_list),
            "share_state_template": share_state_template(),
        }
    return {}


def csv_response(rows: Any, *, filename: str) -> StreamingHttpResponse:
    import csv

    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class CampaignResultsExportView(BrandScopedViewMixin, SingleObjectMixin, View):  # type: ignore[type-arg]
    """CSV: one row per share with its latest network-reported counts, measured clicks and earnings."""

    model = Campaign
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        campaign = self.get_object()
        rows = share_results_rows(shares=Share.objects.filter(campaign=campaign), currency=campaign.currency)
        stamp = timezone.now().strftime("%Y%m%d")
        return csv_response(rows, filename=f"linkilike-results-{campaign.slug}-{stamp}.csv")
