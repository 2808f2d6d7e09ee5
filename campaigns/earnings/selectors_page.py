"""The influencer's earnings page figures: the money statement (``payouts``) and the clicks not yet booked
(``campaigns.tracking``), so the page needs no import of campaigns in the money layer."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.tracking.selectors_timing import ClicksPending, clicks_pending_for_influencer
from influencers.models import InfluencerProfile
from payouts.selectors import EarningsStatement, earnings_statement_get_for_influencer


@dataclass(frozen=True)
class EarningsPage:
    """The earnings page's figures: the money statement (``payouts``) and the clicks not yet booked."""

    statement: EarningsStatement
    clicks_pending: ClicksPending


def earnings_page_get_for_influencer(*, influencer: InfluencerProfile) -> EarningsPage:
    return EarningsPage(
        statement=earnings_statement_get_for_influencer(influencer=influencer),
        clicks_pending=clicks_pending_for_influencer(influencer=influencer),
    )
