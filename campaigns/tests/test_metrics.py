"""Metric pulls: windows, batching, upsert per (share, window), earnings from deltas, reversals, removal."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pytest

from campaigns.metrics import services as metrics
from campaigns.models import MetricSnapshot, PublicationState, SharePublication
from campaigns.publishing import services as publishing
from payouts.models import EarningAccrual, ShareEarning
from tests.doubles.publishing import RecordingProvider, funded_campaign, ready_share, recording_settings
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network(settings: Any) -> Any:
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h", "+24h", "+72h", "+7d", "+28d"]
    return RecordingProvider.reset()


def published(**kwargs: Any) -> SharePublication:
    share = ready_share(**kwargs)
    publication = publishing.share_publication_schedule(share=share)
    assert publication is not None
    publishing.publication_publish(publication_id=publication.pk)
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
    return publication


def after(publication: SharePublication, offset: timedelta) -> datetime:
    assert publication.published_at is not None
    return publication.published_at + offset


def earned(publication: SharePublication) -> int:
    row = ShareEarning.objects.filter(share_key=str(publication.share_id)).first()
    return row.earned_minor if row else 0


def test_windows_are_read_from_settings(settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+6h", "+2m", "+7d"]
    assert [label for label, _offset in metrics.metric_windows()] == ["+2m", "+6h", "+7d"]
    assert metrics.window_offset("+7d") == timedelta(days=7)
    with pytest.raises(ValueError, match="not like"):
        metrics.window_offset("7 days")


def test_nothing_is_due_before_the_first_window(network: Any) -> None:
    published()
    assert metrics.metrics_pull_due().snapshots == 0
    assert network.metrics_calls == []


def test_a_due_window_stores_a_snapshot_and_books_earnings(network: Any) -> None:
    publication = published(campaign=funded_campaign())
    post = network.posts[0]
    post.likes, post.reposts, post.replies, post.reach = 7, 2, 1, 3000

    report = metrics.metrics_pull_due(now=after(publication, timedelta(hours=1, minutes=1)))

    assert report.snapshots == 1
    snapshot = MetricSnapshot.objects.get(share=publication.share)
    assert (snapshot.window, snapshot.likes, snapshot.reposts, snapshot.replies, snapshot.reach) == (
        "+1h",
        7,
        2,
        1,
        3000,
    )
    assert snapshot.engagements == 10
    assert snapshot.quotes is None  # the network does not report it: None, never 0
    # 3000 reach at 20.00 per 1,000 = 60.00, plus 10 engagements at 0.10 = 1.00
    assert earned(publication) == 6000 + 100


def test_pulling_the_same_window_twice_changes_nothing(network: Any) -> None:
    publication = published(campaign=funded_campaign())
    network.posts[0].likes = 5
    at = after(publication, timedelta(hours=2))
    metrics.metrics_pull(pairs={publication.pk: ["+1h"]}, now=at)
    before = (earned(publication), EarningAccrual.objects.count(), MetricSnapshot.objects.count())

    network.posts[0].likes = 50  # the network moved on; the +1h window is already stored
    metrics.metrics_pull(pairs={publication.pk: ["+1h"]}, now=at)
    metrics.metrics_pull_due(now=at)

    assert (earned(publication), EarningAccrual.objects.count(), MetricSnapshot.objects.count()) == before
    assert MetricSnapshot.objects.get(share=publication.share, window="+1h").likes == 5


def test_a_metric_drop_books_a_reversal(network: Any) -> None:
    publication = published(campaign=funded_campaign())
    network.posts[0].likes = 40
    metrics.metrics_pull_due(now=after(publication, timedelta(hours=1, minutes=1)))
    assert earned(publication) == 400

    network.posts[0].likes = 10  # fake likes purged by the network
    metrics.metrics_pull_due(now=after(publication, timedelta(hours=6, minutes=1)))

    assert earned(publication) == 100
    reversal = EarningAccrual.objects.get(share__share_key=str(publication.share_id), window="+6h")
    assert reversal.earned_minor == -300


def test_a_deleted_post_is_removed_stops_earning_and_reverses_unheld_earnings(network: Any) -> None:
    publication = published(campaign=funded_campaign())
    network.posts[0].likes = 30
    metrics.metrics_pull_due(now=after(publication, timedelta(hours=1, minutes=1)))
    assert earned(publication) == 300

    network.posts[0].deleted = True
    metrics.metrics_pull_due(now=after(publication, timedelta(hours=6, minutes=1)))

    publication.refresh_from_db()
    assert publication.state == PublicationState.REMOVED
    assert earned(publication) == 0
    held = EarningAccrual.objects.filter(share__share_key=str(publication.share_id)).order_by("pk")
    assert held.first().pending_minor == 0
    # Removed posts are not pulled any more.
    calls = len(network.metrics_calls)
    metrics.metrics_pull_due(now=after(publication, timedelta(days=8)))
    assert len(network.metrics_calls) == calls


@pytest.mark.parametrize("count", [1, 3, 7])
def test_posts_are_pulled_in_batches_as_large_as_the_network_allows(network: Any, count: int) -> None:
    account = ConnectedAccountFactory(
        influencer=InfluencerProfileFactory(), network="recording", instance_url="https://recording.example"
    )
    publications = [published(account=account) for _ in range(count)]
    now = max(after(p, timedelta(hours=1, minutes=1)) for p in publications)

    report = metrics.metrics_pull_due(now=now)

    batch = RecordingProvider.capabilities.metrics_batch_size
    assert report.provider_calls == math.ceil(count / batch)
    assert len(network.metrics_calls) == math.ceil(count / batch)
    assert MetricSnapshot.objects.filter(window="+1h").count() == count


def test_missed_windows_are_filled_from_one_pull(network: Any) -> None:
    publication = published(campaign=funded_campaign())
    network.posts[0].likes = 3

    metrics.metrics_pull_due(now=after(publication, timedelta(hours=25)))

    windows = set(MetricSnapshot.objects.filter(share=publication.share).values_list("window", flat=True))
    assert windows == {"+1h", "+6h", "+24h"}
    assert len(network.metrics_calls) == 1
    assert earned(publication) == 30


def test_a_pulled_window_far_above_the_followers_puts_the_share_on_hold(settings: Any) -> None:
    from campaigns.models import HoldReason, ShareHold
    from networks.providers.types import MetricsSnapshot

    settings.TRACKING_REACH_FOLLOWERS_FACTOR = 10
    publication = published()
    account = publication.share.connected_account
    account.followers_count = 100
    account.save(update_fields=["followers_count"])
    now = after(publication, timedelta(hours=1))
    normal = MetricsSnapshot(external_id=publication.external_id, fetched_at=now, likes=3, reach=900)
    metrics.metric_snapshot_record(publication=publication, windows=["+1h"], snapshot=normal, now=now)
    assert not ShareHold.objects.filter(share=publication.share).exists()
    viral = MetricsSnapshot(external_id=publication.external_id, fetched_at=now, likes=3, reach=5000)
    metrics.metric_snapshot_record(publication=publication, windows=["+6h"], snapshot=viral, now=now)
    hold = ShareHold.objects.get(share=publication.share)
    assert hold.reason == HoldReason.REACH_ANOMALY
