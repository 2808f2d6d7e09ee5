"""A read that cannot give counts for a post that still exists is "unknown", never "zero" (X and Meta doubles).

No snapshot with invented zeros, no delta, no reversal; the window is tried again with backoff and given up
visibly after its last try; a metric missing from an otherwise good read books nothing for that metric.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any, cast

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from campaigns.metrics.selectors import metric_pairs_due
from campaigns.metrics.services import metric_windows, metrics_pull, metrics_pull_due
from campaigns.models import MetricSnapshot, PublicationState, SharePublication
from campaigns.publishing.selectors import share_state_get
from networks.models import ConnectedAccount, Network
from networks.providers.instagram import InstagramProvider
from networks.providers.x import XProvider
from networks.tests.doubles.helpers import client_for, connect
from networks.tests.doubles.meta_double import MetaDouble, running_meta_double
from networks.tests.doubles.x_double import XDouble, running_x_double
from networks.tests.test_instagram import connect as instagram_connect
from networks.tests.test_instagram import draft as instagram_draft
from networks.tests.test_instagram import publish as instagram_publish
from payouts.models import EarningAccrual, ShareEarning
from tests.doubles.publishing import funded_campaign, ready_share
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def x_double() -> Iterator[XDouble]:
    with running_x_double() as double:
        yield double


@pytest.fixture
def meta_double() -> Iterator[MetaDouble]:
    with running_meta_double("instagram") as double:
        yield double


def published_on(account: ConnectedAccount, external_id: str, *, hours_ago: float = 2) -> SharePublication:
    share = ready_share(account=account, campaign=funded_campaign())
    return SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=uuid.uuid4().hex,
        external_id=external_id,
        published_at=timezone.now() - timedelta(hours=hours_ago),
    )


def earned(publication: SharePublication) -> int:
    row = ShareEarning.objects.filter(share_key=str(publication.share_id)).first()
    return row.earned_minor if row else 0


def accruals(publication: SharePublication) -> list[tuple[str, int]]:
    return list(
        EarningAccrual.objects.filter(share__share_key=str(publication.share_id))
        .order_by("pk")
        .values_list("window", "earned_minor")
    )


def reconciles() -> bool:
    out = StringIO()
    call_command("ledger_reconcile", stdout=out)
    return "0 drift" in out.getvalue()


# --- X ------------------------------------------------------------------------------------------


def test_x_answer_without_public_metrics_is_unknown(x_double: XDouble) -> None:
    provider = XProvider(base_url=x_double.url, client=client_for(x_double.state))
    tokens = connect(provider)
    post_id = x_double.state.add_post(text="fresh https://brand.example/p")
    x_double.state.omit_public_metrics.add(post_id)

    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[post_id])

    assert snapshot.exists is True
    assert snapshot.unknown_reason
    assert (snapshot.likes, snapshot.impressions) == (None, None)


def test_x_missing_counts_book_nothing_then_retry_back_off_and_give_up(x_double: XDouble, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h", "+24h"]
    settings.METRICS_RETRY_ATTEMPTS = 3
    settings.METRICS_RETRY_BASE_SECONDS = 600
    provider = XProvider(base_url=x_double.url, client=client_for(x_double.state))
    tokens = connect(provider)
    post_id = x_double.state.add_post(text="fresh https://brand.example/p")
    x_double.state.posts[post_id]["public"].update(like_count=7, impression_count=900)
    account = cast(
        ConnectedAccount,
        ConnectedAccountFactory(
            network=Network.X,
            instance_url=x_double.url,
            external_id=x_double.state.user_id,
            handle="@lena_makes",
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
        ),
    )
    publication = published_on(account, post_id, hours_ago=0)
    assert publication.published_at is not None
    windows = dict(metric_windows())
    metrics_pull_due(now=publication.published_at + windows["+1h"] + timedelta(minutes=1))
    paid = earned(publication)
    assert paid == 900 * 2000 // 1000 + 7 * 10

    x_double.state.omit_public_metrics.add(post_id)
    at = publication.published_at + windows["+6h"] + timedelta(minutes=1)
    first = metrics_pull_due(now=at)

    assert first.snapshots == 0
    assert not MetricSnapshot.objects.filter(share=publication.share, window="+6h").exists()
    assert accruals(publication) == [("+1h", paid)]
    # Backing off: not asked again at once, asked again once the delay is over (10 min, doubling, jittered).
    assert publication.pk not in metric_pairs_due(now=at + timedelta(minutes=1), windows=metric_windows())
    assert metric_pairs_due(now=at + timedelta(minutes=12), windows=metric_windows())[publication.pk] == ["+6h"]
    calls = len(x_double.calls("GET", "/2/tweets"))
    metrics_pull_due(now=at + timedelta(minutes=12))
    metrics_pull_due(now=at + timedelta(minutes=40))
    assert len(x_double.calls("GET", "/2/tweets")) == calls + 2
    publication.refresh_from_db()
    assert publication.error_code == "metrics_unknown"
    assert "+6h" in publication.last_error
    assert share_state_get(share=publication.share).reason == publication.last_error
    influencer_page = Client()
    influencer_page.force_login(publication.share.influencer.user)
    assert escape(publication.last_error) in influencer_page.get(reverse("influencers:shares")).content.decode()
    assert publication.pk not in metric_pairs_due(now=at + timedelta(hours=5), windows=metric_windows())

    # Back with likes but without impressions this time: the likes are known, impressions are not 0.
    x_double.state.omit_public_metrics.discard(post_id)
    del x_double.state.posts[post_id]["public"]["impression_count"]
    metrics_pull_due(now=publication.published_at + windows["+24h"] + timedelta(minutes=1))

    snapshot = MetricSnapshot.objects.get(share=publication.share, window="+24h")
    assert (snapshot.likes, snapshot.impressions) == (7, None)
    assert accruals(publication) == [("+1h", paid)]  # nothing reversed: an unknown count is not a zero
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
    assert publication.error_code == ""
    assert reconciles()


def test_x_post_gone_at_the_source_is_removed_and_reversed(x_double: XDouble, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h"]
    provider = XProvider(base_url=x_double.url, client=client_for(x_double.state))
    tokens = connect(provider)
    post_id = x_double.state.add_post(text="fresh https://brand.example/p")
    x_double.state.posts[post_id]["public"].update(like_count=3)
    account = cast(
        ConnectedAccount,
        ConnectedAccountFactory(
            network=Network.X, instance_url=x_double.url, access_token=tokens.access_token, handle="@lena_makes"
        ),
    )
    publication = published_on(account, post_id)
    metrics_pull(pairs={publication.pk: ["+1h"]})
    assert earned(publication) == 30

    del x_double.state.posts[post_id]
    metrics_pull(pairs={publication.pk: ["+6h"]})

    publication.refresh_from_db()
    assert publication.state == PublicationState.REMOVED
    assert accruals(publication) == [("+1h", 30), ("removed", -30)]
    assert reconciles()


# --- Meta (Instagram) ---------------------------------------------------------------------------


def test_instagram_insights_without_enough_viewers_are_unknown(meta_double: MetaDouble, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h"]
    settings.INSTAGRAM_GRAPH_URL = meta_double.url
    provider, tokens = instagram_connect(meta_double)
    media_id = instagram_publish(provider, tokens, instagram_draft())
    meta_double.state.small_media.add(media_id)

    [snapshot] = InstagramProvider(base_url=meta_double.url).fetch_metrics(tokens=tokens, external_ids=[media_id])

    assert snapshot.exists is True
    assert "viewers" in snapshot.unknown_reason

    account = cast(
        ConnectedAccount,
        ConnectedAccountFactory(
            network=Network.INSTAGRAM, instance_url=meta_double.url, access_token=tokens.access_token
        ),
    )
    publication = published_on(account, media_id)
    report = metrics_pull(pairs={publication.pk: ["+1h"]})

    assert report.snapshots == 0
    assert not MetricSnapshot.objects.filter(share=publication.share).exists()
    assert accruals(publication) == []
