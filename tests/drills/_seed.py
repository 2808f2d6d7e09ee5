"""Seed data for the drills: READY shares on Mastodon accounts whose server is the recording double.

One approved (optionally funded) campaign, one influencer with one accepted offer, and ``count``
connected accounts on the double with one READY share each (``Share`` is unique per offer and
account). Accounts and shares go in with ``bulk_create``. Each caption carries ``[drill:<n>]`` so the
double can tell which share a post belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from campaigns.captions import TRACKING_LINK_PLACEHOLDER, caption_compose
from campaigns.models import Campaign, Offer, Share, ShareStatus
from influencers.models import InfluencerProfile
from networks.models import AccountStatus, ConnectedAccount, Network
from tests.factories.campaigns import CampaignFactory, CaptionVariantFactory, ContentPieceFactory, OfferFactory
from tests.factories.influencers import InfluencerProfileFactory


@dataclass(frozen=True)
class Seeded:
    campaign_id: int
    share_ids: list[int]
    #: share id -> drill marker in its caption
    markers: dict[int, str]


def shares_seed(*, count: int, instance_url: str, funded_minor: int = 0) -> Seeded:
    if funded_minor:
        from tests.doubles.publishing import funded_campaign

        campaign = funded_campaign(budget_minor=funded_minor, networks=["mastodon"])
    else:
        campaign = cast(
            Campaign,
            CampaignFactory(
                status="approved",
                disclosures={"en": "#ad"},
                languages=["en"],
                cpm_minor=2000,
                cpe_minor=10,
                cpc_minor=0,
                networks=["mastodon"],
            ),
        )
        content = ContentPieceFactory(campaign=campaign, target_url="https://shop.example/roast")
        CaptionVariantFactory(content=content, text="Our new roast is here", language="en")
    influencer = cast(InfluencerProfile, InfluencerProfileFactory())
    offer = cast(
        Offer,
        OfferFactory(
            campaign=campaign,
            influencer=influencer,
            match__campaign=campaign,
            match__influencer=influencer,
            status="accepted",
        ),
    )
    accounts = ConnectedAccount.objects.bulk_create(
        [
            ConnectedAccount(
                influencer=influencer,
                network=Network.MASTODON,
                instance_url=instance_url,
                external_id=str(100_000 + n),
                handle=f"@drill{n}@127.0.0.1",
                followers_count=500,
                status=AccountStatus.HEALTHY,
                access_token=f"drill-token-{n}",
                refresh_token="",
            )
            for n in range(count)
        ],
        batch_size=500,
    )
    shares = Share.objects.bulk_create(
        [
            Share(
                offer=offer,
                campaign=campaign,
                influencer=influencer,
                connected_account=account,
                caption_text=caption_compose(
                    text=f"Our new roast is here [drill:{n}]", disclosure="#ad", link=TRACKING_LINK_PLACEHOLDER
                ),
                status=ShareStatus.READY,
            )
            for n, account in enumerate(accounts)
        ],
        batch_size=500,
    )
    return Seeded(
        campaign_id=campaign.pk,
        share_ids=[share.pk for share in shares],
        markers={share.pk: str(n) for n, share in enumerate(shares)},
    )
