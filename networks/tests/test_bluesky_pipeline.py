"""Issue 8, end to end against the real local AT Protocol network (``@atproto/dev-env``).

An influencer connects alice.test through Linkilike's connect page; she accepts an offer of a funded,
approved campaign with an image; the share goes out through the publishing pipeline (schedule +
publish task) to her PDS as a link card with the image uploaded as its thumbnail blob; bob.test and carla.test like and
repost it; the metrics pull of the first window stores the counts; the brand's results show the
engagements and the influencer has pending earnings.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from typing import Any, cast

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from campaigns.matching.services import offer_accept
from campaigns.metrics.services import metric_windows, metrics_pull_due
from campaigns.models import MediaKind, MetricSnapshot, Offer, PublicationState, SharePublication, ShareStatus
from campaigns.publishing import services as publishing
from campaigns.publishing import tasks as publishing_tasks
from campaigns.tracking.selectors import campaign_results_get_for_campaign
from influencers.models import InfluencerProfile
from networks.models import Network
from networks.tests.bluesky_devenv import Devenv
from networks.tests.test_bluesky_devenv import connect, react, record_of
from payouts.models import AccountKind
from payouts.selectors import earnings_statement_get_for_influencer, influencer_balance_minor
from tests.doubles.publishing import funded_campaign
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import OfferFactory
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = [pytest.mark.bluesky, pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def devenv(atproto_devenv: Devenv, settings: Any, tmp_path: Any) -> Devenv:
    settings.BLUESKY_PDS_URL = atproto_devenv.pds_url
    settings.BLUESKY_APPVIEW_URL = atproto_devenv.appview_url
    settings.BLUESKY_WEB_URL = ""  # dev-env has no web app: posts are linked by their at:// URI
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SITE_URL = "https://linkilike.test"
    return atproto_devenv


def large_photo() -> bytes:
    """A 1600x1200 photo-like PNG well over Bluesky's 1,000,000-byte limit: the pipeline must shrink it."""
    image = Image.effect_mandelbrot((1600, 1200), (-2.0, -1.2, 1.0, 1.2), 100).convert("RGB")
    noise = Image.effect_noise((1600, 1200), 64).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(image, noise, 0.5).save(buffer, format="PNG")
    return buffer.getvalue()


def test_influencer_share_on_bluesky_earns_from_likes_and_reposts(client: Client, devenv: Devenv) -> None:
    influencer = cast(InfluencerProfile, InfluencerProfileFactory(languages=["en"]))
    client.force_login(influencer.user)
    account = connect(client, devenv, handle="alice.test")

    campaign = funded_campaign(networks=[Network.BLUESKY])
    content = campaign.content.get()
    photo = large_photo()
    assert len(photo) > 1_000_000
    content.media.save("roast.png", ContentFile(photo), save=False)
    content.media_kind = MediaKind.IMAGE
    content.title = "Freshly roasted beans"
    content.save()
    offer = cast(
        Offer,
        OfferFactory(campaign=campaign, match__campaign=campaign, match__influencer=influencer, influencer=influencer),
    )

    [share] = offer_accept(
        offer=offer, influencer=influencer, account_ids=[account.pk], caption_text=None, scheduled_at=None
    )
    assert share.status == ShareStatus.READY
    started = time.monotonic()
    publication = publishing.share_publication_schedule(share=share)
    assert publication is not None
    assert publication.state == PublicationState.QUEUED
    publishing_tasks.publication_publish.delay(publication.pk)
    publication.refresh_from_db()
    published_in = time.monotonic() - started

    assert publication.state == PublicationState.PUBLISHED, publication.last_error
    assert publication.external_id.startswith(f"at://{account.external_id}/app.bsky.feed.post/")
    record = record_of(devenv, publication.external_id)
    assert "#ad" in record["text"]
    assert record["text"] == publication.posted_text
    # The link goes out as its card, the content's image as the card's thumbnail (one embed per post).
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    card = record["embed"]["external"]
    assert card["uri"] in record["text"]
    assert card["title"] == "Freshly roasted beans"
    assert card["thumb"]["mimeType"] == "image/jpeg"  # shrunk under 1,000,000 bytes on the way
    assert card["thumb"]["size"] <= 1_000_000
    link_facets = [f for f in record.get("facets", []) if f["features"][0]["$type"] == "app.bsky.richtext.facet#link"]
    assert link_facets, record

    repo, collection, rkey = publication.external_id.removeprefix("at://").split("/")
    cid = requests.get(
        f"{devenv.pds_url}/xrpc/com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
        timeout=10,
    ).json()["cid"]
    react(devenv, "bob.test", uri=publication.external_id, cid=cid)
    react(devenv, "carla.test", uri=publication.external_id, cid=cid)

    # The first metrics window is due once its offset has passed; the AppView indexes likes asynchronously,
    # so wait until it has them before the (once-per-window) pull.
    first_window, offset = metric_windows()[0]
    assert publication.published_at is not None
    later = publication.published_at + offset + timedelta(minutes=1)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        view = requests.get(
            f"{devenv.appview_url}/xrpc/app.bsky.feed.getPosts",
            params={"uris": publication.external_id},
            headers={"atproto-accept-labelers": "did:plc:ar7c4by46qjdydhdevvrndac;redact"},
            timeout=10,
        )
        if view.ok and view.json()["posts"] and view.json()["posts"][0].get("likeCount") == 2:
            break
        time.sleep(0.5)
    assert metrics_pull_due(now=timezone.now() - timedelta(seconds=1)).snapshots == 0  # not due yet
    report = metrics_pull_due(now=later)

    assert report.snapshots == 1
    snapshot = MetricSnapshot.objects.get(share=share, window=first_window)
    assert (snapshot.likes, snapshot.reposts) == (2, 2)
    assert snapshot.engagements == 4

    results = campaign_results_get_for_campaign(campaign=campaign)
    assert results.totals.engagements == 4
    assert results.totals.shares == 1
    brand_user = UserFactory()
    MembershipFactory(brand=campaign.brand, user=brand_user)
    client.force_login(brand_user)
    page = client.get(
        reverse("campaigns:detail", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk}), {"tab": "results"}
    )
    assert page.status_code == 200
    export = client.get(
        reverse("campaigns:results-export", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})
    )
    header, row = csv.reader(io.StringIO(b"".join(cast(Any, export).streaming_content).decode()))
    line = dict(zip(header, row, strict=True))
    assert line["post_url"] == publication.external_id
    assert line["engagements (network-reported)"] == "4"

    pending = influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_PENDING)
    assert pending > 0
    statement = earnings_statement_get_for_influencer(influencer=influencer)
    assert statement.pending_minor == pending
    assert not SharePublication.objects.exclude(pk=publication.pk).exists()
    print(f"\npublished through the pipeline in {published_in:.2f} s")  # noqa: T201 - timing for CI logs
