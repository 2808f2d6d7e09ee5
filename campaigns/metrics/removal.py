"""A post that is gone (or lost its disclosure): the reversal both the metrics pull and the proof-of-post checks
book. Below both, so neither imports the other for it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from campaigns.earnings.participation import participation_reversal
from campaigns.earnings.services import MetricDelta, earnings_accrue
from campaigns.metrics.selectors import accrued_totals_for_share
from campaigns.models import MetricWindow, PublicationState, SharePublication
from campaigns.tracking.services import share_clicks_unbill
from payouts.models import MetricSource


@transaction.atomic
def publication_remove(*, publication: SharePublication, now: datetime | None = None) -> SharePublication:
    """The post is gone (or lost its disclosure): REMOVED, stops earning, unheld earnings are reversed.

    Click earnings still on hold are reversed with the rest, and those clicks, the clicks not booked yet
    and every later click are not billable (reason "post removed", ADR 9 and the offer page's terms).
    """
    now = now or timezone.now()
    locked = SharePublication.objects.select_for_update().select_related("share").get(pk=publication.pk)
    if locked.state == PublicationState.REMOVED:
        return locked
    locked.state = PublicationState.REMOVED
    locked.removed_at = now
    locked.retention_checked_at = now
    locked.save(update_fields=["state", "removed_at", "retention_checked_at", "updated_at"])
    share = locked.share
    impressions, engagements = accrued_totals_for_share(share_key=str(share.pk))
    clicks = share_clicks_unbill(share_id=share.pk, now=now)
    # The participation fee is taken back unless the post already stayed up for the retention period.
    participations, participation_price = participation_reversal(share=share, retained=locked.retained_at is not None)
    if impressions or engagements or clicks or participations:
        earnings_accrue(
            delta=MetricDelta(
                share_key=str(share.pk),
                campaign_id=share.campaign_id,
                influencer_id=share.influencer_id,
                window=MetricWindow.REMOVED,
                impressions=-impressions,
                engagements=-engagements,
                unique_clicks=-clicks,
                participations=participations,
                participation_price_minor=participation_price,
                source=MetricSource.NETWORK_REPORTED,
            ),
            now=now,
        )
    return locked
