"""Seeds P6's mixed load: brands with campaigns and results, influencers with offers, API clients.

Brands, people and campaigns come from the factories (few rows); matches, offers, shares, tracking
links, clicks and metric snapshots are bulk-inserted. Every person gets a signed-in session (the
same rows allauth's login writes) and every brand owner an API token; ``--out`` receives them as
JSON for ``bench/locustfile.py``. Only for benchmark databases (``make bench``).
"""

from __future__ import annotations

import json
import random
import secrets
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import api_token_create
from brands.models import BrandRole, Membership
from campaigns.models import Campaign, Click, Match, MetricSnapshot, Offer, Share, ShareStatus, TrackingLink
from influencers.models import InfluencerProfile
from networks.models import ConnectedAccount
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, ContentPieceFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

BATCH = 2000
AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def _session_for(user: User) -> str:
    """A signed-in session for ``user``, as ``django.contrib.auth.login`` stores it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = AUTH_BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


class Command(BaseCommand):
    help = "Benchmark only: seed brands, campaigns with results, influencers with offers, sessions and API tokens."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--brands", type=int, default=10)
        parser.add_argument("--campaigns", type=int, default=3, help="per brand")
        parser.add_argument("--influencers", type=int, default=60)
        parser.add_argument("--offers", type=int, default=20, help="influencers offered each campaign")
        parser.add_argument("--clicks", type=int, default=40, help="per share")
        parser.add_argument("--out", required=True)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(6)
        now = timezone.now()
        influencers = [cast(InfluencerProfile, InfluencerProfileFactory()) for _ in range(options["influencers"])]
        # No tokens: the load never calls a network, and benchmark settings carry no vault keys.
        accounts = {
            p.pk: cast(
                ConnectedAccount,
                ConnectedAccountFactory(influencer=p, followers_count=5000, access_token="", refresh_token=""),
            )
            for p in influencers
        }
        brands: list[dict[str, Any]] = []
        campaigns = []
        for _index in range(options["brands"]):
            owner = cast(Membership, MembershipFactory(role=BrandRole.OWNER))
            brand = owner.brand
            own = [cast(Campaign, CampaignFactory(brand=brand, status="approved")) for _ in range(options["campaigns"])]
            for campaign in own:
                ContentPieceFactory(campaign=campaign, target_url="https://shop.example/autumn")
            campaigns += own
            _token, raw_token = api_token_create(user=owner.user, name="bench")
            brands.append(
                {
                    "slug": brand.slug,
                    "campaigns": [c.pk for c in own],
                    "session": _session_for(owner.user),
                    "token": raw_token,
                }
            )
        matches = Match.objects.bulk_create(
            [
                Match(campaign=campaign, influencer=person, score=rng.randint(300, 900), status="approved")
                for campaign in campaigns
                for person in rng.sample(influencers, min(options["offers"], len(influencers)))
            ],
            batch_size=BATCH,
        )
        offers = Offer.objects.bulk_create(
            [
                Offer(
                    match=match,
                    campaign_id=match.campaign_id,
                    influencer_id=match.influencer_id,
                    status="accepted" if index % 3 else "new",
                    accepted_at=now - timedelta(days=2) if index % 3 else None,
                    expires_at=now + timedelta(days=20),
                )
                for index, match in enumerate(matches)
            ],
            batch_size=BATCH,
        )
        shares = Share.objects.bulk_create(
            [
                Share(
                    offer=offer,
                    campaign_id=offer.campaign_id,
                    influencer_id=offer.influencer_id,
                    connected_account=accounts[offer.influencer_id],
                    caption_text="Our autumn roast #ad",
                    status=ShareStatus.READY,
                )
                for offer in offers
                if offer.status == "accepted"
            ],
            batch_size=BATCH,
        )
        links = TrackingLink.objects.bulk_create(
            [
                TrackingLink(
                    share=share,
                    code=secrets.token_urlsafe(7),
                    target_url=f"https://shop.example/autumn?utm_source=linkilike&utm_content={share.pk}",
                )
                for share in shares
            ],
            batch_size=BATCH,
        )
        Click.objects.bulk_create(
            [
                Click(
                    link=link,
                    event_id=secrets.token_hex(16),
                    occurred_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 7)),
                    ip_hash=secrets.token_hex(16),
                    ua_hash="0" * 32,
                    ua_family="Firefox",
                    billable=rng.random() < 0.8,
                    reason="",
                )
                for link in links
                for _ in range(options["clicks"])
            ],
            batch_size=BATCH,
        )
        MetricSnapshot.objects.bulk_create(
            [
                MetricSnapshot(
                    share=share,
                    window=window,
                    collected_at=now - timedelta(hours=hours),
                    reach=reach,
                    impressions=reach * 3 // 2,
                    engagements=reach // 25,
                    likes=reach // 30,
                    reposts=reach // 100,
                )
                for share in shares
                for window, hours, reach in (("+1h", 47, rng.randint(100, 2000)), ("+24h", 24, rng.randint(2000, 9000)))
            ],
            batch_size=BATCH,
        )
        out = {
            "brands": brands,
            "influencers": [{"session": _session_for(person.user)} for person in influencers],
            "session_cookie": settings.SESSION_COOKIE_NAME,
        }
        path = Path(options["out"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=1), encoding="utf-8")
        self.stdout.write(
            f"{len(brands)} brands, {len(campaigns)} campaigns, {len(influencers)} influencers, {len(offers)} offers, "
            f"{len(shares)} shares, {len(shares) * options['clicks']} clicks -> {path}"
        )
