"""Results that cannot be gamed, against the real local AT Protocol network (``@atproto/dev-env``).

- The author's own like, repost, reply and quote of her campaign post are not paid; another account's like is.
- A like from another influencer's account on the same campaign puts the share on hold for staff.
- A post the AppView stops returning (a moderation takedown there) while her PDS still has it is "unknown":
  no snapshot, no reversal, retried with backoff and given up visibly; only a deletion at the PDS reverses.
- A published post carries its link card (the tracking link, the content's title and its image as thumbnail).
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any, cast

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from campaigns.earnings.services import earnings_release_due
from campaigns.matching.services import offer_accept
from campaigns.metrics.services import metric_windows, metrics_pull_due
from campaigns.models import Campaign, MediaKind, MetricSnapshot, PublicationState, Share, ShareHold, SharePublication
from campaigns.publishing import services as publishing
from campaigns.publishing import tasks as publishing_tasks
from campaigns.publishing.selectors import share_state_get
from campaigns.tracking.services import share_hold_release
from influencers.models import InfluencerProfile
from networks.models import ConnectedAccount, Network
from networks.tests.bluesky_devenv import Devenv
from networks.tests.test_bluesky_devenv import connect, record_of
from payouts.models import AccountKind, EarningAccrual, ShareEarning
from payouts.selectors import influencer_balance_minor
from tests.doubles.publishing import funded_campaign
from tests.factories.campaigns import OfferFactory
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = [pytest.mark.bluesky, pytest.mark.django_db, pytest.mark.slow]

#: dev-env's AppView accepts its admin password (@atproto/dev-env const.js ADMIN_PASSWORD) for moderation calls.
APPVIEW_ADMIN = "Basic " + base64.b64encode(b"admin:admin-pass").decode()
CPE = 10  # funded_campaign's price per engagement (minor units)


@pytest.fixture
def devenv(atproto_devenv: Devenv, settings: Any, tmp_path: Any) -> Devenv:
    settings.BLUESKY_PDS_URL = atproto_devenv.pds_url
    settings.BLUESKY_APPVIEW_URL = atproto_devenv.appview_url
    settings.BLUESKY_WEB_URL = ""  # dev-env has no web app: posts are linked by their at:// URI
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SITE_URL = "https://linkilike.test"
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h", "+24h", "+72h"]
    return atproto_devenv


# --- helpers ----------------------------------------------------------------------------------


def accept(client: Client, devenv: Devenv, campaign: Campaign, handle: str) -> tuple[ConnectedAccount, Share]:
    """A new influencer connects ``handle`` and accepts an offer of ``campaign`` (the share is READY)."""
    influencer = cast(InfluencerProfile, InfluencerProfileFactory(languages=["en"]))
    client.force_login(influencer.user)
    account = connect(client, devenv, handle=handle)
    offer = OfferFactory(
        campaign=campaign, match__campaign=campaign, match__influencer=influencer, influencer=influencer
    )
    [share] = offer_accept(
        offer=offer, influencer=influencer, account_ids=[account.pk], caption_text=None, scheduled_at=None
    )
    return account, share


def publish(share: Share) -> SharePublication:
    publication = publishing.share_publication_schedule(share=share)
    assert publication is not None
    publishing_tasks.publication_publish.delay(publication.pk)
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED, publication.last_error
    return publication


def strong_ref(devenv: Devenv, uri: str) -> dict[str, str]:
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    answer = requests.get(
        f"{devenv.pds_url}/xrpc/com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"uri": uri, "cid": str(answer.json()["cid"])}


def create(devenv: Devenv, handle: str, collection: str, record: dict[str, Any]) -> dict[str, Any]:
    """``handle`` writes a record to its own repository with its own session (as the Bluesky app would)."""
    session = devenv.session(handle)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return devenv.call(
        session,
        "com.atproto.repo.createRecord",
        {"repo": session["did"], "collection": collection, "record": {"$type": collection, "createdAt": now, **record}},
    )


def like(devenv: Devenv, handle: str, subject: dict[str, str]) -> None:
    create(devenv, handle, "app.bsky.feed.like", {"subject": subject})


def repost(devenv: Devenv, handle: str, subject: dict[str, str]) -> None:
    create(devenv, handle, "app.bsky.feed.repost", {"subject": subject})


def reply(devenv: Devenv, handle: str, parent: dict[str, str], text: str) -> None:
    create(devenv, handle, "app.bsky.feed.post", {"text": text, "reply": {"root": parent, "parent": parent}})


def quote(devenv: Devenv, handle: str, subject: dict[str, str], text: str) -> None:
    embed = {"$type": "app.bsky.embed.record", "record": subject}
    create(devenv, handle, "app.bsky.feed.post", {"text": text, "embed": embed})


def appview_post(devenv: Devenv, uri: str) -> dict[str, Any] | None:
    answer = requests.get(f"{devenv.appview_url}/xrpc/app.bsky.feed.getPosts", params={"uris": uri}, timeout=10)
    assert answer.status_code == 200, answer.text
    posts: list[dict[str, Any]] = answer.json()["posts"]
    return posts[0] if posts else None


def wait_for(devenv: Devenv, uri: str, check: Callable[[dict[str, Any] | None], bool], seconds: float = 20) -> None:
    """The AppView indexes the firehose asynchronously: wait until it shows what the test needs."""
    deadline = time.monotonic() + seconds
    while True:
        post = appview_post(devenv, uri)
        if check(post):
            return
        assert time.monotonic() < deadline, f"the AppView never showed the expected state: {post}"
        time.sleep(0.3)


def counts(*, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0) -> Callable[[Any], bool]:
    want = (likes, reposts, replies, quotes)
    return lambda post: (
        post is not None
        and (
            post.get("likeCount"),
            post.get("repostCount"),
            post.get("replyCount"),
            post.get("quoteCount"),
        )
        == want
    )


def moderate(devenv: Devenv, subject: dict[str, str], *, taken_down: bool) -> None:
    """A moderator takes the post down on the AppView (or lifts it); the PDS keeps the record all along."""
    answer = requests.post(
        f"{devenv.appview_url}/xrpc/com.atproto.admin.updateSubjectStatus",
        json={
            "subject": {"$type": "com.atproto.repo.strongRef", **subject},
            "takedown": {"applied": taken_down, "ref": "linkilike-test"},
        },
        headers={"Authorization": APPVIEW_ADMIN},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def earning(share: Share) -> ShareEarning:
    return ShareEarning.objects.get(share_key=str(share.pk))


def accrual_windows(share: Share) -> list[tuple[str, int]]:
    rows = EarningAccrual.objects.filter(share__share_key=str(share.pk)).order_by("pk")
    return list(rows.values_list("window", "earned_minor"))


def window_time(publication: SharePublication, label: str, extra: timedelta = timedelta(minutes=1)) -> datetime:
    assert publication.published_at is not None
    return publication.published_at + dict(metric_windows())[label] + extra


def assert_ledger_reconciles() -> None:
    out = StringIO()
    call_command("ledger_reconcile", stdout=out)
    assert "0 drift" in out.getvalue(), out.getvalue()


# --- 1. the author's own engagement ---------------------------------------------------------


def test_the_authors_own_like_repost_reply_and_quote_are_not_paid(client: Client, devenv: Devenv) -> None:
    campaign = funded_campaign(networks=[Network.BLUESKY])
    _account, share = accept(client, devenv, campaign, "alice.test")
    publication = publish(share)
    post = strong_ref(devenv, publication.external_id)

    like(devenv, "alice.test", post)
    repost(devenv, "alice.test", post)
    reply(devenv, "alice.test", post, "Thanks for reading! (my own reply)")
    quote(devenv, "alice.test", post, "Look at my own post")
    like(devenv, "bob.test", post)
    wait_for(devenv, publication.external_id, counts(likes=2, reposts=1, replies=1, quotes=1))

    report = metrics_pull_due(now=window_time(publication, "+1h"))

    assert report.snapshots == 1
    snapshot = MetricSnapshot.objects.get(share=share, window="+1h")
    # The network's counts are kept as reported; only what is paid leaves the author's own actions out.
    assert (snapshot.likes, snapshot.reposts, snapshot.replies, snapshot.quotes) == (2, 1, 1, 1)
    assert snapshot.engagements == 1
    assert earning(share).engagements == 1
    assert earning(share).earned_minor == CPE  # bob's like only
    assert not ShareHold.objects.filter(share=share).exists()
    assert_ledger_reconciles()


# --- 1b. another influencer on the same campaign ---------------------------------------------


def test_a_like_from_another_influencer_on_the_campaign_puts_the_share_on_hold(client: Client, devenv: Devenv) -> None:
    campaign = funded_campaign(networks=[Network.BLUESKY])
    _alice, share = accept(client, devenv, campaign, "alice.test")
    accept(client, devenv, campaign, "carla.test")  # carla is an influencer on the same campaign
    publication = publish(share)
    post = strong_ref(devenv, publication.external_id)

    like(devenv, "carla.test", post)
    like(devenv, "bob.test", post)
    wait_for(devenv, publication.external_id, counts(likes=2))

    metrics_pull_due(now=window_time(publication, "+1h"))

    hold = ShareHold.objects.get(share=share, released_at__isnull=True)
    assert hold.reason == "peer_engagement"
    assert "@carla.test" in hold.detail
    assert earning(share).earned_minor == 2 * CPE  # counted, but held for review
    influencer = share.influencer
    pending = influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_PENDING)
    assert pending == 2 * CPE

    earnings_release_due(now=datetime.now(UTC) + timedelta(days=365))

    assert influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_PENDING) == pending
    assert influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE) == 0

    share_hold_release(hold=hold, released_by=None)  # staff looked at it and found nothing wrong
    earnings_release_due(now=datetime.now(UTC) + timedelta(days=365))

    assert influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE) == pending
    assert_ledger_reconciles()


# --- 2. a hiccup on the AppView is "unknown", never "zero" ------------------------------------


def test_a_takedown_on_the_appview_is_unknown_and_only_a_deletion_at_the_pds_reverses(
    client: Client, devenv: Devenv, settings: Any
) -> None:
    settings.METRICS_RETRY_ATTEMPTS = 3
    settings.METRICS_RETRY_BASE_SECONDS = 60
    campaign = funded_campaign(networks=[Network.BLUESKY])
    _account, share = accept(client, devenv, campaign, "alice.test")
    publication = publish(share)
    post = strong_ref(devenv, publication.external_id)
    like(devenv, "bob.test", post)
    repost(devenv, "bob.test", post)
    wait_for(devenv, publication.external_id, counts(likes=1, reposts=1))
    metrics_pull_due(now=window_time(publication, "+1h"))
    assert earning(share).earned_minor == 2 * CPE

    moderate(devenv, post, taken_down=True)
    wait_for(devenv, publication.external_id, lambda view: view is None)
    assert record_of(devenv, publication.external_id)  # the PDS still has it

    # Every try while it is taken down: no snapshot, no booking, no reversal; the tries back off and end.
    at = window_time(publication, "+6h")
    for _attempt in range(settings.METRICS_RETRY_ATTEMPTS):
        report = metrics_pull_due(now=at)
        assert report.snapshots == 0
        assert metrics_pull_due(now=at + timedelta(seconds=1)).snapshots == 0  # backing off: not asked again
        at += timedelta(minutes=10)
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
    assert not MetricSnapshot.objects.filter(share=share, window="+6h").exists()
    assert accrual_windows(share) == [("+1h", 2 * CPE)]
    assert earning(share).earned_minor == 2 * CPE
    # Given up visibly: the reason is on the publication and in what brand, influencer and staff see.
    assert publication.error_code == "metrics_unknown"
    assert "+6h" in publication.last_error
    assert share_state_get(share=share).reason == publication.last_error
    assert metrics_pull_due(now=at + timedelta(hours=1)).snapshots == 0  # given up: never asked again

    moderate(devenv, post, taken_down=False)
    wait_for(devenv, publication.external_id, counts(likes=1, reposts=1))
    report = metrics_pull_due(now=window_time(publication, "+24h"))

    assert report.snapshots == 1
    assert MetricSnapshot.objects.get(share=share, window="+24h").engagements == 2
    assert accrual_windows(share) == [("+1h", 2 * CPE)]  # no -20 and +20 again: nothing happened to the money
    publication.refresh_from_db()
    assert publication.error_code == ""

    # A deletion at her PDS is confirmed: the post is REMOVED and its unheld earnings are reversed.
    session = devenv.session("alice.test")
    rkey = publication.external_id.rsplit("/", 1)[1]
    devenv.call(
        session,
        "com.atproto.repo.deleteRecord",
        {"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": rkey},
    )
    wait_for(devenv, publication.external_id, lambda view: view is None)
    metrics_pull_due(now=window_time(publication, "+72h"))

    publication.refresh_from_db()
    assert publication.state == PublicationState.REMOVED
    assert accrual_windows(share) == [("+1h", 2 * CPE), ("removed", -2 * CPE)]
    assert_ledger_reconciles()


# --- 5. the link card --------------------------------------------------------------------------


def photo(size: tuple[int, int] = (600, 400)) -> bytes:
    image = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_published_post_carries_its_link_card_with_the_content_image_as_thumbnail(
    client: Client, devenv: Devenv
) -> None:
    campaign = funded_campaign(networks=[Network.BLUESKY])
    content = campaign.content.get()
    image = photo()
    content.media.save("beans.png", ContentFile(image), save=False)
    content.media_kind = MediaKind.IMAGE
    content.title = "Freshly roasted beans"
    content.save()
    account, share = accept(client, devenv, campaign, "alice.test")

    publication = publish(share)

    record = record_of(devenv, publication.external_id)
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    card = record["embed"]["external"]
    link = next(word for word in publication.posted_text.split() if word.startswith("https://linkilike.test/r/"))
    assert card["uri"] == link
    assert card["title"] == "Freshly roasted beans"
    assert card["description"] == "shop.example"
    thumb = card["thumb"]
    assert thumb["$type"] == "blob"
    assert thumb["mimeType"] == "image/png"
    assert thumb["size"] == len(image)
    blob = requests.get(
        f"{devenv.pds_url}/xrpc/com.atproto.sync.getBlob",
        params={"did": account.external_id, "cid": thumb["ref"]["$link"]},
        timeout=10,
    )
    assert blob.status_code == 200
    assert blob.content == image
    # The AppView shows the card with its thumbnail to readers.
    wait_for(devenv, publication.external_id, lambda view: view is not None and "embed" in view)
    view = appview_post(devenv, publication.external_id)
    assert view is not None
    assert view["embed"]["$type"] == "app.bsky.embed.external#view"
    assert view["embed"]["external"]["uri"] == link
    assert view["embed"]["external"].get("thumb")
