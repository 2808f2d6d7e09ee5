"""Metric pulls at scale (ADR 13): app-level reads batched across accounts, bounded concurrency, pacing."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db.models import signals

from campaigns.metrics import services as metrics
from campaigns.metrics.selectors import publications_for_metrics
from campaigns.models import MetricSnapshot, PublicationState, SharePublication
from campaigns.publishing import services as publishing
from networks.providers.exceptions import RateLimited
from networks.providers.types import MetricsAccess, MetricsSnapshot, TokenSet
from payouts.models import ShareEarning
from tests.doubles.publishing import RecordingNetwork, RecordingProvider, ready_share, recording_settings

pytestmark = pytest.mark.django_db

APP_NETWORK = "appread"


class AppReadProvider(RecordingProvider):
    """A network whose metric reads are public (like Bluesky's getPosts): one call serves many accounts."""

    network = APP_NETWORK
    capabilities = replace(
        RecordingProvider.capabilities, metrics_access=MetricsAccess.APP, metrics_batch_size=3, metrics_concurrency=4
    )
    latency: ClassVar[float] = 0.05
    lock: ClassVar[threading.Lock] = threading.Lock()
    in_flight: ClassVar[int] = 0
    max_in_flight: ClassVar[int] = 0
    account_reads: ClassVar[int] = 0
    fail_next: ClassVar[list[Exception]] = []

    @classmethod
    def reset(cls) -> RecordingNetwork:
        cls.in_flight = cls.max_in_flight = cls.account_reads = 0
        cls.fail_next = []
        cls.state = RecordingProvider.reset()  # one recorded network for both providers
        return cls.state

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        type(self).account_reads += 1
        return super().fetch_metrics(tokens=tokens, external_ids=external_ids)

    def fetch_metrics_app(self, *, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        cls = type(self)
        with cls.lock:
            if cls.fail_next:
                raise cls.fail_next.pop(0)
            cls.in_flight += 1
            cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
        try:
            time.sleep(cls.latency)
            return RecordingProvider.fetch_metrics(self, tokens=TokenSet(access_token=""), external_ids=external_ids)
        finally:
            with cls.lock:
                cls.in_flight -= 1


@pytest.fixture(autouse=True)
def network(settings: Any) -> RecordingNetwork:
    recording_settings(settings)
    settings.NETWORK_PROVIDERS = {
        **settings.NETWORK_PROVIDERS,
        APP_NETWORK: {"class": f"{__name__}.AppReadProvider", "base_url": "https://appread.example"},
    }
    settings.NETWORK_METRICS_LIMITS = {}
    settings.SITE_URL = "https://linkilike.test"
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h"]
    return AppReadProvider.reset()


def published(count: int, *, network: str = APP_NETWORK) -> list[SharePublication]:
    """``count`` published posts, each on an account of its own."""
    result = []
    for _ in range(count):
        share = ready_share(network=network, instance_url=f"https://{network}.example")
        publication = publishing.share_publication_schedule(share=share)
        assert publication is not None
        publishing.publication_publish(publication_id=publication.pk)
        publication.refresh_from_db()
        assert publication.state == PublicationState.PUBLISHED
        result.append(publication)
    return result


def hour_later(publications: list[SharePublication]) -> Any:
    return max(p.published_at for p in publications if p.published_at) + timedelta(hours=1, minutes=1)


def test_app_level_reads_fill_each_batch_with_posts_of_many_accounts(network: RecordingNetwork) -> None:
    publications = published(7)

    report = metrics.metrics_pull_due(now=hour_later(publications))

    assert report.provider_calls == len(network.metrics_calls) == math.ceil(7 / 3)
    assert sorted(len(ids) for ids in network.metrics_calls) == [1, 3, 3]
    assert AppReadProvider.account_reads == 0  # no account token was needed
    assert MetricSnapshot.objects.filter(window="+1h").count() == 7


def test_account_level_reads_still_batch_per_account(network: RecordingNetwork) -> None:
    publications = published(4, network="recording")

    report = metrics.metrics_pull_due(now=hour_later(publications))

    assert report.provider_calls == len(network.metrics_calls) == 4  # one account each, one call each
    assert MetricSnapshot.objects.filter(window="+1h").count() == 4


def test_concurrent_reads_never_exceed_the_allowed_concurrency(settings: Any, network: RecordingNetwork) -> None:
    settings.NETWORK_METRICS_LIMITS = {APP_NETWORK: {"concurrency": 2}}
    publications = published(12)

    started = time.monotonic()
    report = metrics.metrics_pull_due(now=hour_later(publications))
    elapsed = time.monotonic() - started

    assert report.provider_calls == 4
    assert AppReadProvider.max_in_flight == 2  # concurrent, and never more than allowed
    assert elapsed >= 2 * AppReadProvider.latency  # 4 calls two at a time
    assert MetricSnapshot.objects.filter(window="+1h").count() == 12


def test_pulling_the_same_window_twice_changes_nothing(network: RecordingNetwork) -> None:
    publications = published(5)
    for post in network.posts:
        post.likes, post.reach = 4, 900
    now = hour_later(publications)
    metrics.metrics_pull_due(now=now)
    rows = sorted(MetricSnapshot.objects.values_list("share_id", "window", "likes", "collected_at"))
    earned = sorted(ShareEarning.objects.values_list("share_key", "earned_minor"))
    calls = len(network.metrics_calls)

    for post in network.posts:
        post.likes = 40
    report = metrics.metrics_pull_due(now=now)

    assert report.snapshots == 0
    assert len(network.metrics_calls) == calls
    assert sorted(MetricSnapshot.objects.values_list("share_id", "window", "likes", "collected_at")) == rows
    assert sorted(ShareEarning.objects.values_list("share_key", "earned_minor")) == earned


def test_a_rate_limited_app_read_leaves_the_rest_for_the_next_sweep(settings: Any, network: RecordingNetwork) -> None:
    settings.NETWORK_METRICS_LIMITS = {APP_NETWORK: {"concurrency": 1}}
    publications = published(6)
    AppReadProvider.fail_next = [RateLimited("429", retry_after=60)]
    now = hour_later(publications)

    report = metrics.metrics_pull_due(now=now)

    assert report.snapshots == 0
    assert report.deferred_batches == 2  # the refused one and the one not sent after it
    assert network.metrics_calls == []

    report = metrics.metrics_pull_due(now=now)

    assert report.snapshots == 6
    assert report.provider_calls == 2


def test_the_pull_is_paced_by_the_networks_rate_limit(settings: Any, network: RecordingNetwork) -> None:
    settings.NETWORK_METRICS_LIMITS = {APP_NETWORK: {"requests": 2, "seconds": 0.4, "concurrency": 4}}
    AppReadProvider.latency = 0.0
    try:
        publications = published(12)  # 4 calls, at most 2 in any 0.4 s

        started = time.monotonic()
        report = metrics.metrics_pull_due(now=hour_later(publications))
        elapsed = time.monotonic() - started
    finally:
        AppReadProvider.latency = 0.05

    assert report.provider_calls == 4
    assert elapsed >= 0.4  # the third call waited for the window
    assert MetricSnapshot.objects.filter(window="+1h").count() == 12


def test_a_sweep_is_skipped_while_another_one_runs(settings: Any, network: RecordingNetwork) -> None:
    from django.core.cache import cache

    from campaigns.metrics.tasks import SWEEP_LOCK, metrics_pull_due

    settings.CAMPAIGN_METRICS_WINDOWS = ["+0m"]
    published(2)
    cache.set(SWEEP_LOCK, "1")
    try:
        assert metrics_pull_due() == 0
        assert network.metrics_calls == []
    finally:
        cache.delete(SWEEP_LOCK)

    assert metrics_pull_due() == 2
    assert len(network.metrics_calls) == 1
    assert cache.get(SWEEP_LOCK) is None


def test_the_sweep_loads_posts_as_the_orm_would(network: RecordingNetwork) -> None:
    """``publications_for_metrics`` builds instances without ``Model.__init__``: same values, deferred fields
    load on use, and they save as loaded rows (an update, not an insert)."""
    publications = published(2)
    loaded = {publication.pk: publication for publication in publications_for_metrics(ids=[p.pk for p in publications])}
    assert set(loaded) == {p.pk for p in publications}
    for publication in publications:
        fresh = loaded[publication.pk]
        orm = SharePublication.objects.select_related("share").get(pk=publication.pk)
        assert fresh._state.adding is False
        assert fresh._state.db == "default"
        assert fresh.external_id == orm.external_id
        assert fresh.published_at == orm.published_at
        assert fresh.share.campaign_id == orm.share.campaign_id
        assert fresh.share.connected_account.pk == orm.share.connected_account_id
        assert "media_ids" in fresh.get_deferred_fields()
        assert fresh.media_ids == orm.media_ids  # deferred: read on first use
        fresh.last_error = "checked"
        fresh.save(update_fields=["last_error"])
    assert SharePublication.objects.filter(last_error="checked").count() == 2
    assert SharePublication.objects.count() == 2


def test_a_model_with_init_listeners_is_loaded_through_from_db(network: RecordingNetwork) -> None:
    publication = published(1)[0]
    seen: list[int] = []

    def listener(sender: Any, instance: SharePublication, **kwargs: Any) -> None:
        seen.append(instance.pk)

    signals.post_init.connect(listener, sender=SharePublication)
    try:
        publications_for_metrics(ids=[publication.pk])
    finally:
        signals.post_init.disconnect(listener, sender=SharePublication)
    assert seen == [publication.pk]


class _CountingStore:
    """Stands in for the sweep's store: records what was queued each time the loop caught up."""

    def __init__(self, start: int) -> None:
        self.start, self.pending = start, 0
        self.stored: list[int] = []

    def outcome(self, outcome: int) -> None:
        self.pending += outcome

    def caught_up(self) -> None:
        if self.pending >= self.start:
            self.stored.append(self.pending)
            self.pending = 0


def test_the_store_takes_every_answer_already_back_in_one_go() -> None:
    from concurrent.futures import Future

    futures: list[Future[Any]] = [Future() for _ in range(6)]
    store = _CountingStore(start=2)
    for future in futures[:4]:
        future.set_result(1)  # four answers are back before the store looks

    def later() -> None:
        time.sleep(0.05)
        futures[4].set_result(1)
        time.sleep(0.05)
        futures[5].set_result(1)

    thread = threading.Thread(target=later)
    thread.start()
    metrics._store_as_answered(futures, store)
    thread.join()

    # The four answers back at once make one store; the fifth alone is too few, so it waits for the sixth.
    assert store.stored == [4, 2]
    assert store.pending == 0


def test_a_sweep_starts_storing_before_its_last_answer_and_stores_every_read_once(
    settings: Any, network: RecordingNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.METRICS_STORE_START = 4
    settings.METRICS_STORE_CHUNK = 100
    settings.NETWORK_METRICS_LIMITS = {APP_NETWORK: {"concurrency": 2}}  # two answers of 3 posts every 50 ms
    publications = published(12)
    sizes: list[int] = []
    store = metrics.metric_snapshots_store_batch

    def recorded(*, reads: Any, now: Any) -> int:
        sizes.append(len(reads))
        return store(reads=reads, now=now)

    monkeypatch.setattr(metrics, "metric_snapshots_store_batch", recorded)
    metrics.metrics_pull_due(now=hour_later(publications))

    assert sum(sizes) == 12
    assert len(sizes) >= 2  # stored while later reads were still out
    assert all(size >= 4 for size in sizes[:-1])  # never fewer than METRICS_STORE_START but the last
    assert MetricSnapshot.objects.filter(window="+1h").count() == 12
