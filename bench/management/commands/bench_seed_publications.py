"""Seed a benchmark database with published shares on one network (bench P3, metrics pulls).

``--posts`` publications spread over ``--campaigns`` funded campaigns and ``posts / campaigns``
influencers with one account each, so every influencer has one post per campaign (a share is
unique per offer and account). Each post's ``external_id`` is an ``at://`` URI (Bluesky) and it
was published ``--age-minutes`` ago, so the first metrics window is due. Everything but the
campaigns' funding (a handful of ledger transactions through the payouts services) is inserted
with ``bulk_create`` in large batches. Only for empty benchmark databases.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from brands.models import Brand
from campaigns.earnings.budget import campaign_budget_reserve
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
)
from influencers.models import InfluencerProfile
from networks.models import AccountStatus, ConnectedAccount
from payouts.services.ledger import brand_fund

BATCH = 5000
BUDGET_MINOR = 10_000_000


def post_uri(account: int, number: int) -> str:
    return f"at://did:plc:bench{account:06d}/app.bsky.feed.post/3bench{number:08d}"


class Command(BaseCommand):
    help = "Benchmark seed (P3): many published shares on one network, due for their first metrics window."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--posts", type=int, default=10_000)
        parser.add_argument("--campaigns", type=int, default=10)
        parser.add_argument("--network", default="bluesky")
        parser.add_argument("--instance-url", default="https://bsky.social")
        parser.add_argument("--age-minutes", type=int, default=90)

    def handle(self, *args: Any, **options: Any) -> None:
        count = seed(
            posts=options["posts"],
            campaigns=options["campaigns"],
            network=options["network"],
            instance_url=options["instance_url"],
            age=timedelta(minutes=options["age_minutes"]),
        )
        self.stdout.write(f"seeded {count} published posts")


@transaction.atomic
def seed(*, posts: int, campaigns: int, network: str, instance_url: str, age: timedelta) -> int:
    now = timezone.now()
    influencers = math.ceil(posts / campaigns)
    brand = Brand.objects.create(name="Bench Metrics Brand", slug="bench-metrics", category="fashion")
    brand_fund(
        brand=brand, amount_minor=BUDGET_MINOR * campaigns, currency="EUR", source="bank_transfer", reference="P3"
    )
    campaign_rows = []
    for n in range(campaigns):
        campaign = Campaign.objects.create(
            brand=brand,
            name=f"Bench metrics campaign {n}",
            slug=f"bench-metrics-{n}",
            status=CampaignStatus.APPROVED,
            currency="EUR",
            budget_minor=BUDGET_MINOR,
            cpm_minor=2000,
            cpe_minor=10,
            starts_at=now - timedelta(days=2),
            ends_at=now + timedelta(days=30),
            approved_at=now - timedelta(days=2),
            disclosures={"en": "#ad"},
            languages=["en"],
            networks=[network],
        )
        campaign_budget_reserve(campaign=campaign)
        campaign_rows.append(campaign)

    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(email=f"bench-p3-{i}@bench.example", password=unusable, is_active=True) for i in range(influencers)],
        batch_size=BATCH,
    )
    profiles = InfluencerProfile.objects.bulk_create(
        [
            InfluencerProfile(user=user, display_name=f"P3 influencer {i}", languages=["en"], terms_accepted_at=now)
            for i, user in enumerate(users)
        ],
        batch_size=BATCH,
    )
    accounts = ConnectedAccount.objects.bulk_create(
        [
            ConnectedAccount(
                influencer=profile,
                network=network,
                instance_url=instance_url,
                external_id=f"did:plc:bench{i:06d}",
                handle=f"@p3-{i}.bench.example",
                followers_count=1000 + i,
                status=AccountStatus.HEALTHY,
            )
            for i, profile in enumerate(profiles)
        ],
        batch_size=BATCH,
    )
    pairs = [(campaign, index) for campaign in campaign_rows for index in range(influencers)][:posts]
    matches = Match.objects.bulk_create(
        [
            Match(campaign=campaign, influencer=profiles[i], score=500, status=MatchStatus.APPROVED)
            for campaign, i in pairs
        ],
        batch_size=BATCH,
    )
    offers = Offer.objects.bulk_create(
        [
            Offer(
                match=match,
                campaign=campaign,
                influencer=profiles[i],
                status=OfferStatus.ACCEPTED,
                accepted_at=now - age,
            )
            for match, (campaign, i) in zip(matches, pairs, strict=True)
        ],
        batch_size=BATCH,
    )
    shares = Share.objects.bulk_create(
        [
            Share(
                offer=offer,
                campaign=campaign,
                influencer=profiles[i],
                connected_account=accounts[i],
                caption_text="Our new roast is here #ad",
                status=ShareStatus.READY,
            )
            for offer, (campaign, i) in zip(offers, pairs, strict=True)
        ],
        batch_size=BATCH,
    )
    SharePublication.objects.bulk_create(
        [
            SharePublication(
                share=share,
                state=PublicationState.PUBLISHED,
                attempt=1,
                idempotency_key=f"bench-p3-{n}",
                external_id=post_uri(i, n),
                published_at=now - age,
            )
            for n, (share, (_campaign, i)) in enumerate(zip(shares, pairs, strict=True))
        ],
        batch_size=BATCH,
    )
    return len(shares)
