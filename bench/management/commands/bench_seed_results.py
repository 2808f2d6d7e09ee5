"""Seeds P2's results data in bulk: one brand with a large and a small campaign.

Large: ``--influencers`` influencers x ``--networks`` accounts each = the shares (2,000 by default),
``--snapshots`` metric snapshots per share (25 -> 50,000), ``--clicks`` clicks per share
(100 -> 200,000, spread over ``--days`` days, about 70 % billable), one share earning per share and
one earning accrual per snapshot window. Small: 10 shares with the same data per share.

Shares, offers and accounts go in with ``bulk_create``; snapshots, clicks and accruals with
``INSERT ... SELECT generate_series`` (PostgreSQL only), the snapshots with their row trigger off and
the rollups rebuilt once at the end. Benchmark databases only: it never runs
against real data. Prints ``campaign ids: <large> <small>`` and the member's email.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from brands.models import Brand, BrandRole, Membership
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
    PublicationState,
    Share,
    SharePublication,
    ShareStatus,
    TrackingLink,
)
from influencers.models import InfluencerProfile
from networks.models import AccountStatus, ConnectedAccount, Network
from payouts.models import ShareEarning

BATCH = 2000
NETWORKS = (Network.MASTODON, Network.BLUESKY, Network.X, Network.INSTAGRAM, Network.THREADS)
MEMBER_EMAIL = "bench-results@example.test"
#: The snapshot rollup triggers: per row for updates and deletes, per statement for inserts (migration 0017).
SNAPSHOT_TRIGGERS = ("campaigns_metricsnapshot_rollup", "campaigns_metricsnapshot_rollup_insert")


class Command(BaseCommand):
    help = "Benchmark only: bulk-create a brand with a large and a small campaign's shares, snapshots and clicks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--influencers", type=int, default=400)
        parser.add_argument("--networks", type=int, default=5, choices=range(1, len(NETWORKS) + 1))
        parser.add_argument("--snapshots", type=int, default=25, help="per share")
        parser.add_argument("--clicks", type=int, default=100, help="per share")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--small-influencers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_seed_results needs PostgreSQL (generate_series).")
        with transaction.atomic():
            # A bulk load, like a backfill, skips the per-snapshot rollup trigger (one row at a time,
            # ~50x the insert) and rebuilds the rollups once at the end (ADR 12). Clicks and accruals
            # keep their statement triggers (one grouped upsert per INSERT).
            with connection.cursor() as cursor:
                for trigger in SNAPSHOT_TRIGGERS:
                    cursor.execute(f"ALTER TABLE campaigns_metricsnapshot DISABLE TRIGGER {trigger}")
            ids = self._seed(options)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred FK checks pending block ALTER TABLE
                for trigger in SNAPSHOT_TRIGGERS:
                    cursor.execute(f"ALTER TABLE campaigns_metricsnapshot ENABLE TRIGGER {trigger}")
                cursor.execute("SELECT campaigns_results_rebuild()")
                cursor.execute("SELECT campaigns_result_groups_rebuild()")
        # Every seeded snapshot and click updated its rollup rows (dead row versions): measure the
        # steady state autovacuum keeps (migration 0007 tunes it for these tables), not the bulk load.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"member: {MEMBER_EMAIL}")
        self.stdout.write(f"campaign ids: {ids[0]} {ids[1]}")

    def _seed(self, options: dict[str, Any]) -> list[int]:
        now = timezone.now()
        brand = Brand.objects.create(name="Bench Roastery", slug=f"bench-{secrets.token_hex(3)}", country="AT")
        user = User.objects.create(email=MEMBER_EMAIL, full_name="Bench Analyst")
        Membership.objects.create(brand=brand, user=user, role=BrandRole.ANALYST)
        ids = []
        for label, influencers in (("large", options["influencers"]), ("small", options["small_influencers"])):
            campaign = self._campaign(brand, label, now, options["days"])
            shares = self._shares(campaign, label, influencers, options["networks"], now, options["days"])
            self._snapshots(campaign, options["snapshots"], options["days"], now)
            self._clicks(campaign, options["clicks"], options["days"], now)
            self._earnings(campaign, shares, options["snapshots"], now)
            ids.append(campaign.pk)
            self.stdout.write(f"{label}: {len(shares)} shares")
        self.stdout.write(f"brand: {brand.slug}")
        return ids

    def _campaign(self, brand: Brand, label: str, now: Any, days: int) -> Campaign:
        return Campaign.objects.create(
            brand=brand,
            name=f"Autumn roast ({label})",
            slug=f"autumn-{label}",
            currency="EUR",
            budget_minor=10_000_000,
            cpe_minor=10,
            cpc_minor=10,
            starts_at=now - timedelta(days=days + 1),
            ends_at=now + timedelta(days=30),
            languages=["en"],
            disclosures={"en": "#ad"},
            networks=[str(network) for network in NETWORKS],
            status=CampaignStatus.APPROVED,
        )

    def _shares(
        self, campaign: Campaign, label: str, influencers: int, networks: int, now: Any, days: int
    ) -> list[Share]:
        users = User.objects.bulk_create(
            [User(email=f"bench-{label}-{index}@example.test") for index in range(influencers)], batch_size=BATCH
        )
        profiles = InfluencerProfile.objects.bulk_create(
            [
                InfluencerProfile(user=user, display_name=f"Creator {label} {index:04d}")
                for index, user in enumerate(users)
            ],
            batch_size=BATCH,
        )
        matches = Match.objects.bulk_create(
            [
                Match(campaign=campaign, influencer=profile, score=500, status=MatchStatus.APPROVED)
                for profile in profiles
            ],
            batch_size=BATCH,
        )
        offers = Offer.objects.bulk_create(
            [
                Offer(match=match, campaign=campaign, influencer=match.influencer, status=OfferStatus.ACCEPTED)
                for match in matches
            ],
            batch_size=BATCH,
        )
        accounts = ConnectedAccount.objects.bulk_create(
            [
                ConnectedAccount(
                    influencer=offer.influencer,
                    network=NETWORKS[index],
                    instance_url="https://mastodon.example",
                    external_id=f"{label}-{offer.pk}-{index}",
                    handle=f"@{label}{offer.pk}n{index}",
                    followers_count=5000,
                    status=AccountStatus.HEALTHY,
                    access_token="",
                    refresh_token="",
                )
                for offer in offers
                for index in range(networks)
            ],
            batch_size=BATCH,
        )
        offer_of = {offer.influencer_id: offer for offer in offers}
        shares = Share.objects.bulk_create(
            [
                Share(
                    offer=offer_of[account.influencer_id],
                    campaign=campaign,
                    influencer_id=account.influencer_id,
                    connected_account=account,
                    caption_text="Our autumn roast #ad",
                    status=ShareStatus.READY,
                )
                for account in accounts
            ],
            batch_size=BATCH,
        )
        SharePublication.objects.bulk_create(
            [
                SharePublication(
                    share=share,
                    state=PublicationState.PUBLISHED,
                    idempotency_key=secrets.token_hex(16),
                    external_id=f"post-{share.pk}",
                    external_url=f"https://mastodon.example/@bench/{share.pk}",
                    published_at=now - timedelta(days=days),
                )
                for share in shares
            ],
            batch_size=BATCH,
        )
        TrackingLink.objects.bulk_create(
            [
                TrackingLink(share=share, code=secrets.token_urlsafe(7), target_url="https://shop.example/autumn")
                for share in shares
            ],
            batch_size=BATCH,
        )
        return shares

    def _snapshots(self, campaign: Campaign, per_share: int, days: int, now: Any) -> None:
        """Growing counts per window; X and Instagram report no reach (impressions only), Bluesky neither."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO campaigns_metricsnapshot
                    (share_id, "window", collected_at, reach, impressions, engagements, likes, reposts,
                     post_exists, source)
                SELECT s.id, 'w' || lpad(w::text, 3, '0'),
                       %(start)s + (w * %(days)s::float / %(n)s) * interval '1 day'
                           + (s.id %% 97) * interval '1 minute',
                       CASE WHEN a.network IN ('x', 'instagram', 'bluesky') THEN NULL ELSE 100 * w + s.id %% 50 END,
                       CASE WHEN a.network = 'bluesky' THEN NULL ELSE 150 * w + s.id %% 70 END,
                       4 * w + s.id %% 5, 3 * w, w + s.id %% 5, true, 'network_reported'
                FROM campaigns_share s
                JOIN networks_connectedaccount a ON a.id = s.connected_account_id
                CROSS JOIN generate_series(1, %(n)s) AS w
                WHERE s.campaign_id = %(campaign)s
                """,
                {"start": now - timedelta(days=days), "days": days, "n": per_share, "campaign": campaign.pk},
            )

    def _clicks(self, campaign: Campaign, per_share: int, days: int, now: Any) -> None:
        """Clicks spread over the days; every 10th is a bot, every 5th a repeat (about 70 % billable)."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO campaigns_click
                    (link_id, event_id, occurred_at, ip_hash, ua_hash, ua_family, referrer_host, billable, reason)
                SELECT l.id, md5(l.id::text || '-' || c::text),
                       %(start)s + ((c * 7919 + l.id * 104729) %% (%(days)s * 86400)) * interval '1 second',
                       md5('ip' || (c %% 50)::text), md5('ua'), 'Firefox', 'social.example',
                       NOT (c %% 10 = 0 OR c %% 5 = 1),
                       CASE WHEN c %% 10 = 0 THEN 'bot' WHEN c %% 5 = 1 THEN 'duplicate' ELSE '' END
                FROM campaigns_trackinglink l
                JOIN campaigns_share s ON s.id = l.share_id
                CROSS JOIN generate_series(1, %(n)s) AS c
                WHERE s.campaign_id = %(campaign)s
                """,
                {"start": now - timedelta(days=days), "days": days, "n": per_share, "campaign": campaign.pk},
            )

    def _earnings(self, campaign: Campaign, shares: list[Share], per_share: int, now: Any) -> None:
        """One ShareEarning per share and one accrual per window (no ledger rows: the results read none)."""
        ShareEarning.objects.bulk_create(
            [
                ShareEarning(
                    share_key=str(share.pk),
                    campaign=campaign,
                    influencer_id=share.influencer_id,
                    impressions=150 * per_share,
                    engagements=4 * per_share,
                    unique_clicks=70,
                    earned_minor=per_share * 100,
                    fee_minor=per_share * 15,
                )
                for share in shares
            ],
            batch_size=BATCH,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO payouts_earningaccrual
                    (share_id, "window", campaign_id, influencer_id, source, currency, earned_minor, fee_minor,
                     pending_minor, hold_until, created_at)
                SELECT e.id, 'w' || lpad(w::text, 3, '0'), e.campaign_id, e.influencer_id, 'network', 'EUR',
                       100, 15, 0, %(now)s, %(now)s
                FROM payouts_shareearning e CROSS JOIN generate_series(1, %(n)s) AS w
                WHERE e.campaign_id = %(campaign)s
                """,
                {"now": now, "n": per_share, "campaign": campaign.pk},
            )
