"""Books synthetic, verified metrics for a demo influencer so the money flow can be tried by hand.

    manage.py payouts_demo_earnings lena@demo.linkilike.test [--campaign ID] [--days-ago 15]

Windows are dated ``--days-ago`` days back (past the hold period by default), then the hold
release runs, so the earnings show as available. Running it twice books nothing new.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from campaigns.earnings.services import MetricDelta, earnings_accrue, earnings_release_due
from campaigns.models import Campaign
from influencers.models import InfluencerProfile
from payouts.rules import hold_period

SYNTHETIC_WINDOWS = [
    # (share, window, impressions, engagements, unique clicks, source, recent): "recent" stays on hold
    ("mastodon", "+24h", 2_100, 48, 0, "network", False),
    ("mastodon", "+72h", 600, 12, 0, "network", False),
    ("mastodon", "clicks-7d", 0, 0, 42, "measured", False),
    ("instagram", "+24h", 900, 20, 0, "network", False),
    ("mastodon", "+7d-purged-fakes", 0, -40, 0, "network", False),
    ("instagram", "+72h", 400, 6, 8, "network", True),
]


class Command(BaseCommand):
    help = "Books synthetic verified metrics for an influencer on an approved campaign (demo and manual tests)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--campaign", type=int, default=None)
        parser.add_argument("--days-ago", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        influencer = InfluencerProfile.objects.filter(user__email__iexact=options["email"]).first()
        if influencer is None:
            raise CommandError("No influencer profile with that email.")
        campaigns = Campaign.objects.filter(status="approved").order_by("pk")
        campaign = campaigns.filter(pk=options["campaign"]).first() if options["campaign"] else campaigns.first()
        if campaign is None:
            raise CommandError("No approved campaign: approve one in admin first (its budget gets reserved).")
        days_ago = options["days_ago"] if options["days_ago"] is not None else hold_period().days + 1
        booked_at = timezone.now() - timedelta(days=days_ago)
        for share, window, impressions, engagements, clicks, source, recent in SYNTHETIC_WINDOWS:
            accrual = earnings_accrue(
                delta=MetricDelta(
                    share_key=f"demo-{campaign.pk}-{influencer.pk}-{share}",
                    campaign_id=campaign.pk,
                    influencer_id=influencer.pk,
                    window=window,
                    impressions=impressions,
                    engagements=engagements,
                    unique_clicks=clicks,
                    source=source,
                ),
                now=timezone.now() - timedelta(days=2) if recent else booked_at,
            )
            self.stdout.write(f"{share} {window}: earned {accrual.earned_minor} fee {accrual.fee_minor} (minor units)")
        released = earnings_release_due()
        self.stdout.write(self.style.SUCCESS(f"done; hold releases booked: {released}"))
