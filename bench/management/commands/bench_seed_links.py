"""Seeds P1's tracking links in bulk: one accepted offer posted from N accounts, one link per share.

Writes ``code<TAB>target`` lines to ``--out`` so the load generator and the baseline app use the
same codes. Only for benchmark databases (``make bench``); it never runs against real data.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns.models import Offer, Share, ShareStatus, TrackingLink
from campaigns.tracking.services import tracking_target_url
from networks.models import AccountStatus, ConnectedAccount, Network
from tests.factories.campaigns import ContentPieceFactory, OfferFactory

BATCH = 2000


class Command(BaseCommand):
    help = "Benchmark only: bulk-create N tracking links (P1) and write their codes and targets to a file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--links", type=int, default=2000)
        parser.add_argument("--out", required=True)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["links"]
        offer = cast(Offer, OfferFactory(status="accepted"))
        ContentPieceFactory(campaign=offer.campaign, target_url="https://shop.example/autumn?ref=bench")
        accounts = ConnectedAccount.objects.bulk_create(
            [
                ConnectedAccount(
                    influencer=offer.influencer,
                    network=Network.MASTODON,
                    instance_url="https://mastodon.example",
                    external_id=str(index),
                    handle=f"@bench{index}@mastodon.example",
                    followers_count=1000,
                    status=AccountStatus.HEALTHY,
                    access_token="",
                    refresh_token="",
                )
                for index in range(count)
            ],
            batch_size=BATCH,
        )
        shares = Share.objects.bulk_create(
            [
                Share(
                    offer=offer,
                    campaign=offer.campaign,
                    influencer=offer.influencer,
                    connected_account=account,
                    caption_text="Great coffee #ad",
                    status=ShareStatus.READY,
                )
                for account in accounts
            ],
            batch_size=BATCH,
        )
        links = TrackingLink.objects.bulk_create(
            [
                TrackingLink(share=share, code=secrets.token_urlsafe(7), target_url=tracking_target_url(share=share))
                for share in shares
            ],
            batch_size=BATCH,
        )
        out = Path(options["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{link.code}\t{link.target_url}\n" for link in links), encoding="utf-8")
        self.stdout.write(f"{len(links)} tracking links -> {out}")
