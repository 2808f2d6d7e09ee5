"""Seeds metric deltas for bench/p4_earnings.py (bench databases only): two identical copies.

Each copy ("A", "B") has its own brand, campaigns (budgets reserved through the real services)
and influencers; the deltas of both copies are the same numbers on the same shapes, so booking
copy A one way and copy B another must end in the same balances. Deltas are written with one
``INSERT ... SELECT generate_series`` into the table ``bench_metric_delta`` (not a model: the
benchmark stages them into ``campaigns.earnings.batch``'s staging table or turns them into
``MetricDelta`` objects for the per-row loop).

Layout: shares are spread round-robin over campaigns and influencers; ``seq`` (the booking
order) runs campaign by campaign, window by window, so the first N deltas are whole campaigns
with their full histories, the same shape as the rest. About 3 % of the deltas are falls
(purged fakes, booked as reversals), every 7th campaign has a per-share cap and every 100th
campaign (from the 4th) has a budget that runs out before its last window.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import User
from brands.models import Brand
from campaigns.earnings.budget import campaign_budget_reserve
from campaigns.models import Campaign
from influencers.models import InfluencerProfile
from payouts.services.ledger import brand_fund

COPIES = ("A", "B")


class Command(BaseCommand):
    help = "Bench only: creates two identical copies of campaigns, influencers and metric deltas."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--deltas", type=int, default=1_000_000, help="deltas per copy")
        parser.add_argument("--campaigns", type=int, default=200, help="campaigns per copy")
        parser.add_argument("--influencers", type=int, default=10_000, help="influencers per copy")
        parser.add_argument("--windows", type=int, default=20, help="metric windows per share")

    def handle(self, *args: Any, **options: Any) -> None:
        if not connection.settings_dict["NAME"].startswith("linkilike_bench_"):
            raise CommandError("bench_seed_deltas writes only to a linkilike_bench_* database")
        deltas, campaigns, influencers, windows = (
            options["deltas"],
            options["campaigns"],
            options["influencers"],
            options["windows"],
        )
        per_campaign = deltas // (campaigns * windows)
        if per_campaign < 1:
            raise CommandError("need at least one share per campaign: raise --deltas or lower --campaigns/--windows")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_metric_delta, bench_map")
            cursor.execute("CREATE TABLE bench_map (copy char(1), kind char(1), idx int, id bigint)")
        for copy in COPIES:
            self._copy(copy, campaigns=campaigns, influencers=influencers)
        people = time.perf_counter()
        self._deltas(campaigns=campaigns, influencers=influencers, windows=windows, per_campaign=per_campaign)
        generated = time.perf_counter()
        with transaction.atomic():
            for copy in COPIES:
                self._fund_and_reserve(copy)
        self.stdout.write(
            f"seed seconds: brands, influencers, campaigns {people - started:.1f}; deltas {generated - people:.1f}; "
            f"funding and reservations {time.perf_counter() - generated:.1f}"
        )
        total = campaigns * windows * per_campaign
        self.stdout.write(
            f"seeded {total:,} deltas per copy ({len(COPIES)} copies): {campaigns} campaigns x {per_campaign} shares "
            f"x {windows} windows, {influencers:,} influencers per copy"
        )

    def _copy(self, copy: str, *, campaigns: int, influencers: int) -> None:
        brand = Brand.objects.create(name=f"Bench brand {copy}", slug=f"bench-brand-{copy.lower()}")
        password = make_password(None)
        users = User.objects.bulk_create(
            [User(email=f"bench-{copy.lower()}-{n}@example.invalid", password=password) for n in range(influencers)],
            batch_size=5_000,
        )
        profiles = InfluencerProfile.objects.bulk_create(
            [InfluencerProfile(user=user, display_name=f"Bench {copy} {n}") for n, user in enumerate(users)],
            batch_size=5_000,
        )
        made = Campaign.objects.bulk_create(
            [
                Campaign(
                    brand=brand,
                    name=f"Bench {copy} {n}",
                    slug=f"bench-{copy.lower()}-{n}",
                    status="approved",
                    currency="EUR",
                    budget_minor=1,  # set from the deltas below
                    cpm_minor=300 + (n * 37) % 600,
                    cpe_minor=5 + n % 11,
                    cpc_minor=10 + n % 7,
                    per_share_cap_minor=40_000 if n % 7 == 6 else None,
                    platform_fee_bps=1500,
                )
                for n in range(campaigns)
            ]
        )
        with connection.cursor() as cursor:
            for kind, ids in (("c", [c.pk for c in made]), ("i", [p.pk for p in profiles])):
                cursor.execute(
                    "INSERT INTO bench_map SELECT %s, %s, n - 1, id "
                    "FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(id, n)",
                    [copy, kind, ids],
                )

    def _deltas(self, *, campaigns: int, influencers: int, windows: int, per_campaign: int) -> None:
        block = windows * per_campaign
        with connection.cursor() as cursor:
            cursor.execute(
                """
                CREATE TABLE bench_metric_delta (
                    copy char(1), seq bigint, share_key varchar(120), campaign_id bigint, influencer_id bigint,
                    "window" varchar(80), impressions bigint, engagements bigint, unique_clicks bigint,
                    source varchar(12), PRIMARY KEY (copy, seq)
                )
                """
            )
            # g -> (campaign c, window w, share j of the campaign); hashint8 makes repeatable noise.
            cursor.execute(
                """
                WITH shaped AS (
                    SELECT g, g / %(block)s AS c, (g %% %(block)s) / %(per)s AS w, g %% %(per)s AS j,
                        abs(hashint8(g)) AS h1, abs(hashint8(g + 7919)) AS h2
                    FROM generate_series(0, %(total)s - 1) AS g
                ), valued AS (
                    SELECT g, c, w, j, (c * %(per)s + j) AS share, h2 %% 100 < 3 AS fall, h1, h2 FROM shaped
                )
                INSERT INTO bench_metric_delta
                SELECT m.copy, v.g, m.copy || '-' || v.share, m.id, i.id, 'w' || lpad(v.w::text, 2, '0'),
                    CASE WHEN v.fall THEN -(v.h1 %% 300) ELSE v.h1 %% 2000 END,
                    CASE WHEN v.fall THEN -(v.h2 %% 3) ELSE (v.h1 / 7) %% 30 END,
                    CASE WHEN v.fall THEN 0 ELSE (v.h2 / 11) %% 6 END,
                    CASE WHEN (v.h2 / 13) %% 4 = 0 THEN 'measured' ELSE 'network' END
                FROM valued v
                JOIN bench_map m ON m.kind = 'c' AND m.idx = v.c
                JOIN bench_map i ON i.kind = 'i' AND i.copy = m.copy AND i.idx = (v.share * 7919) %% %(influencers)s
                """,
                {"block": block, "per": per_campaign, "total": campaigns * block, "influencers": influencers},
            )
            cursor.execute("ANALYZE bench_metric_delta")

    def _fund_and_reserve(self, copy: str) -> None:
        """Budgets: ten times the campaign's worth, or 90 % of it for every 100th campaign from the 4th."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE campaigns_campaign c SET budget_minor = CASE WHEN m.idx %% 100 = 3
                    THEN w.worth * 90 / 100 ELSE w.worth * 10 END
                FROM bench_map m, (
                    SELECT d.campaign_id, GREATEST(1, (sum(GREATEST(0, d.impressions)) * k.cpm_minor / 1000
                        + sum(GREATEST(0, d.engagements)) * k.cpe_minor + sum(d.unique_clicks) * k.cpc_minor)
                        * 115 / 100) AS worth
                    FROM bench_metric_delta d JOIN campaigns_campaign k ON k.id = d.campaign_id
                    WHERE d.copy = %(copy)s GROUP BY d.campaign_id, k.cpm_minor, k.cpe_minor, k.cpc_minor
                ) w
                WHERE m.copy = %(copy)s AND m.kind = 'c' AND m.id = c.id AND w.campaign_id = c.id
                """,
                {"copy": copy},
            )
        brand = Brand.objects.get(slug=f"bench-brand-{copy.lower()}")
        campaigns = list(Campaign.objects.filter(brand=brand).order_by("pk"))
        brand_fund(
            brand=brand,
            amount_minor=sum(c.budget_minor for c in campaigns),
            currency="EUR",
            source="bank_transfer",
            reference=f"bench-{copy}",
        )
        for campaign in campaigns:
            campaign_budget_reserve(campaign=campaign)
