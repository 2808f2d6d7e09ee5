"""Seed a benchmark database with many influencers and one approved, targeted campaign (bench P5).

Everything is inserted with ``bulk_create`` in large batches from a seeded random generator, so
the same arguments give the same population. The variety is what the matching engine looks at:
countries (and a few profiles without one), spoken languages, 0-5 topics, 0-4 connected accounts
on several networks with log-normal follower counts (some unknown), account health (some revoked or
needing reconnection), and recently accepted offers from another brand (the exposure penalty).
Passwords are unusable (hashing 100,000 of them would dominate the run and nobody signs in).

Only for empty benchmark databases (``bench.harness`` creates a fresh one): emails are fixed, so a
second run into the same database fails on the unique email.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from brands.models import Brand
from campaigns.models import Campaign, CampaignStatus, Match, MatchStatus, Offer, OfferStatus
from influencers.models import InfluencerProfile, Topic
from networks.models import AccountStatus, ConnectedAccount

BATCH = 5000

#: (country code, weight, languages spoken there); "" = the profile names no country.
COUNTRIES: list[tuple[str, int, tuple[str, ...]]] = [
    ("DE", 28, ("de",)),
    ("AT", 12, ("de",)),
    ("CH", 7, ("de", "fr", "it")),
    ("FR", 9, ("fr",)),
    ("IT", 7, ("it",)),
    ("ES", 7, ("es",)),
    ("NL", 6, ("nl",)),
    ("GB", 8, ("en",)),
    ("US", 8, ("en",)),
    ("PL", 5, ("pl",)),
    ("", 3, ()),
]

#: (network, weight, instance URL)
NETWORKS: list[tuple[str, int, str]] = [
    ("mastodon", 22, "https://mastodon.social"),
    ("sandbox", 4, "http://127.0.0.1:8000/sandbox"),
    ("bluesky", 16, "https://bsky.social"),
    ("instagram", 24, "https://graph.instagram.com"),
    ("x", 12, "https://x.com"),
    ("threads", 8, "https://graph.threads.net"),
    ("linkedin", 6, "https://www.linkedin.com"),
    ("tumblr", 4, "https://www.tumblr.com"),
    ("facebook", 4, "https://graph.facebook.com"),
]

STATUSES: list[tuple[str, int]] = [
    (AccountStatus.HEALTHY, 84),
    (AccountStatus.EXPIRING, 8),
    (AccountStatus.NEEDS_RECONSENT, 5),
    (AccountStatus.REVOKED, 3),
]

#: The benchmark campaign's targeting: German-speaking DACH audience with 1k-100k followers.
CAMPAIGN_TARGETING: dict[str, Any] = {
    "countries": ["DE", "AT", "CH"],
    "languages": ["de"],
    "networks": ["mastodon", "bluesky", "instagram"],
    "followers_min": 1_000,
    "followers_max": 100_000,
}
CAMPAIGN_TOPICS = ("fashion", "sustainability", "travel", "food")


def _weighted(rng: random.Random, table: list[Any]) -> Any:
    return rng.choices(table, weights=[row[1] for row in table])[0]


class Command(BaseCommand):
    help = "Benchmark seed (P5): many influencers with topics, languages and accounts, plus one approved campaign."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--influencers", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = seed(count=options["influencers"], seed_value=options["seed"])
        if options["verbosity"]:
            self.stdout.write(f"seeded {options['influencers']} influencers; campaign {campaign.pk}")


@transaction.atomic
def seed(*, count: int, seed_value: int = 5) -> Campaign:
    """Insert ``count`` influencers and return the approved benchmark campaign."""
    rng = random.Random(seed_value)
    now = timezone.now()
    topics = list(Topic.objects.order_by("slug"))
    # Popular topics are picked more often (a few dominate, a long tail follows).
    topic_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(topics))]
    rng.shuffle(topic_weights)
    unusable = make_password(None)

    brand = Brand.objects.create(name="Bench Brand", slug="bench-brand", category="fashion")
    campaign = Campaign.objects.create(
        brand=brand,
        name="Bench campaign",
        slug="bench-campaign",
        status=CampaignStatus.APPROVED,
        budget_minor=10_000_000,
        cpe_minor=10,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        approved_at=now,
        disclosures={"de": "#Werbung", "en": "#ad"},
        **CAMPAIGN_TARGETING,
    )
    campaign.topics.set(Topic.objects.filter(slug__in=CAMPAIGN_TOPICS))
    # Past campaigns of a competitor: the offers influencers accepted there drive the exposure penalty.
    rival = Brand.objects.create(name="Bench Rival", slug="bench-rival", category="fashion")
    past = [
        Campaign.objects.create(
            brand=rival,
            name=f"Rival campaign {n}",
            slug=f"rival-{n}",
            status=CampaignStatus.APPROVED,
            starts_at=now - timedelta(days=40),
            ends_at=now + timedelta(days=10),
            networks=["mastodon"],
        )
        for n in range(3)
    ]

    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        users = User.objects.bulk_create(
            [
                User(email=f"bench-influencer-{start + i}@bench.example", password=unusable, is_active=True)
                for i in range(size)
            ],
            batch_size=BATCH,
        )
        profiles = []
        for user in users:
            country, _weight, spoken = _weighted(rng, COUNTRIES)
            languages = list(spoken[:1]) if spoken else []
            if spoken and rng.random() < 0.25:
                languages = list(spoken)  # multilingual countries: some speak all of them
            if rng.random() < 0.45:
                languages.append("en")
            if rng.random() < 0.04:
                languages = []
            profiles.append(
                InfluencerProfile(
                    user=user,
                    display_name=f"Influencer {user.pk}",
                    country=country,
                    languages=sorted(set(languages)),
                    terms_accepted_at=now,
                )
            )
        profiles = InfluencerProfile.objects.bulk_create(profiles, batch_size=BATCH)
        through = InfluencerProfile.topics.through
        links: list[Any] = []
        accounts = []
        offers: list[tuple[int, int, Any]] = []
        for profile in profiles:
            chosen = {id(topic): topic for topic in rng.choices(topics, weights=topic_weights, k=rng.randint(0, 5))}
            links.extend(through(influencerprofile_id=profile.pk, topic_id=topic.pk) for topic in chosen.values())
            n_accounts = rng.choices([0, 1, 2, 3, 4], weights=[5, 45, 30, 14, 6])[0]
            networks = rng.sample(NETWORKS, k=n_accounts, counts=[w for _n, w, _u in NETWORKS])
            for n, (network, _weight, url) in enumerate(dict.fromkeys(networks)):
                # Log-normal: median ~3k, a long tail into the millions.
                followers: int | None = int(math.exp(rng.gauss(8.0, 1.9)))
                if rng.random() < 0.03:
                    followers = None  # never refreshed: unknown
                accounts.append(
                    ConnectedAccount(
                        influencer_id=profile.pk,
                        network=network,
                        instance_url=url,
                        external_id=f"{profile.pk}-{n}",
                        handle=f"@influencer{profile.pk}_{n}",
                        followers_count=followers,
                        profile_refreshed_at=now,
                        status=_weighted(rng, STATUSES)[0],
                    )
                )
            if rng.random() < 0.05:
                # Accepted offers: mostly inside the 14-day exposure window, some older.
                for past_campaign in rng.sample(past, k=rng.randint(1, 3)):
                    offers.append((past_campaign.pk, profile.pk, now - timedelta(days=rng.uniform(0, 30))))
        through.objects.bulk_create(links, batch_size=BATCH)
        ConnectedAccount.objects.bulk_create(accounts, batch_size=BATCH)
        matches = Match.objects.bulk_create(
            [
                Match(campaign_id=c, influencer_id=i, score=500, status=MatchStatus.APPROVED, created_at=at)
                for c, i, at in offers
            ],
            batch_size=BATCH,
        )
        Offer.objects.bulk_create(
            [
                Offer(
                    match=match,
                    campaign_id=match.campaign_id,
                    influencer_id=match.influencer_id,
                    status=OfferStatus.ACCEPTED,
                    accepted_at=match.created_at,
                    created_at=match.created_at,
                )
                for match in matches
            ],
            batch_size=BATCH,
        )
    return campaign
