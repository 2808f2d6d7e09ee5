"""Issue 22: the metrics pull stores its reads in sets, with the same outcome as storing them one by one.

The same reads (shares on several networks, two rounds so that falling counts book a reversal, an unknown
read, a post gone at its source, a share held for reach above its followers and one held for engagements far
above the influencer's usual, a sandbox share of a brand that is not a demo brand) are stored by the per-row
path and by the set path from the same starting state (a savepoint rolled back in between); snapshots, retry
rows, holds, results rollups, accruals, ledger transactions and balances are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from campaigns.metrics import services as metrics
from campaigns.metrics.services_batch import MetricRead
from campaigns.models import (
    Campaign,
    CampaignResultGroup,
    CampaignResultHour,
    MetricSnapshot,
    MetricWindowRetry,
    PublicationState,
    ShareHold,
    SharePublication,
    ShareResult,
)
from networks.models import ConnectedAccount, Network
from networks.providers.types import MetricsSnapshot
from payouts.tests.helpers import snapshot as ledger_snapshot
from tests.doubles.publishing import funded_campaign, ready_share, recording_settings
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"


def _publication(campaign: Campaign, account: ConnectedAccount, published_at: datetime) -> SharePublication:
    share = ready_share(account=account, campaign=campaign)
    SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        attempt=1,
        idempotency_key=f"store-batch-{share.pk}",
        external_id=f"post-{share.pk}",
        published_at=published_at,
    )
    return _load([share.publication.pk])[0]


def _load(ids: list[int]) -> list[SharePublication]:
    rows = SharePublication.objects.select_related("share__connected_account", "share__campaign__brand")
    by_pk = {row.pk: row for row in rows.filter(pk__in=ids)}
    return [by_pk[pk] for pk in ids]


def _account(network: str, *, followers: int = 1_000, influencer: Any = None) -> ConnectedAccount:
    return cast(
        ConnectedAccount,
        ConnectedAccountFactory(
            influencer=influencer or InfluencerProfileFactory(), network=network, followers_count=followers
        ),
    )


def _read(publication: SharePublication, windows: list[str], **counts: Any) -> MetricRead:
    snapshot = MetricsSnapshot(external_id=publication.external_id, fetched_at=timezone.now(), **counts)
    return MetricRead(publication=publication, windows=windows, snapshot=snapshot)


def _scenario() -> tuple[list[list[MetricRead]], list[datetime]]:
    """Two rounds of reads over shares on Bluesky, Mastodon, X and the sandbox, in three campaigns."""
    published_at = timezone.now() - timedelta(days=1)
    a, b = funded_campaign(budget_minor=500_000), funded_campaign(budget_minor=500_000)
    demo = funded_campaign(budget_minor=500_000, demo=True)
    regular = _publication(a, _account(Network.BLUESKY), published_at)
    mastodon = _publication(a, _account(Network.MASTODON), published_at)
    x = _publication(b, _account(Network.X), published_at)
    falling = _publication(b, _account(Network.BLUESKY), published_at)
    unknown = _publication(a, _account(Network.MASTODON), published_at)
    gone = _publication(b, _account(Network.X), published_at)
    big_reach = _publication(a, _account(Network.BLUESKY, followers=100), published_at)
    sandbox_regular = _publication(a, _account(Network.SANDBOX), published_at)
    sandbox_demo = _publication(demo, _account(Network.SANDBOX), published_at)
    # An influencer with a usual rate of ~1 % on three earlier shares, then a share far above it.
    usual = _account(Network.MASTODON, followers=1_000)
    history = [_publication(campaign, usual, published_at) for campaign in (funded_campaign(), funded_campaign())]
    history.append(_publication(b, usual, published_at))
    spike = _publication(a, usual, published_at)
    first = [
        _read(regular, ["+1h"], likes=10, shares=2, replies=1, impressions=4_000),
        _read(mastodon, ["+1h"], likes=5, shares=1, replies=0),
        _read(x, ["+1h"], likes=30, shares=3, replies=4, quotes=1, impressions=9_000, clicks=12),
        _read(falling, ["+1h"], likes=80, shares=10, replies=5, impressions=20_000),
        _read(unknown, ["+1h"], likes=3),
        _read(gone, ["+1h"], likes=20, shares=1, impressions=5_000),
        *[_read(item, ["+1h"], likes=9, shares=1, replies=0) for item in history],
        _read(sandbox_regular, ["+1h"], likes=10, impressions=1_000),
        _read(sandbox_demo, ["+1h"], likes=10, impressions=1_000),
    ]
    second = [
        # Catch-up of two windows at once, the author's own like left out.
        _read(regular, ["+6h", "+24h"], likes=25, shares=3, replies=2, impressions=9_000, own_likes=1),
        _read(mastodon, ["+6h"], likes=6, shares=1, replies=1),
        _read(unknown, ["+6h"], likes=4, unknown_reason="the instance did not answer"),
        _read(falling, ["+6h"], likes=20, shares=2, replies=1, impressions=6_000),  # purged: a reversal
        _read(gone, ["+6h"], exists=False),
        _read(x, ["+6h"], likes=31, shares=3, replies=4, quotes=1, impressions=9_500, clicks=14),
        _read(big_reach, ["+6h"], likes=3, reach=5_000),  # 50x its followers: held
        _read(spike, ["+6h"], likes=400, shares=50, replies=20),  # 47 % vs a usual 1 %: held
        _read(sandbox_regular, ["+6h"], likes=40, impressions=3_000),
        _read(sandbox_demo, ["+6h"], likes=40, impressions=3_000),
    ]
    now = timezone.now()
    return [first, second], [now - timedelta(hours=2), now]


def _state() -> dict[str, Any]:
    ledger = ledger_snapshot()
    # hold_until is the wall clock of the booking + the hold period in both paths: compare the rest.
    ledger["accruals"] = {key: value[:7] + value[8:] for key, value in ledger["accruals"].items()}
    snapshot_fields = [f.name for f in MetricSnapshot._meta.fields if f.name not in ("id", "share")]
    hour_fields = ("campaign_id", "hour", "snapshots", "reach_gain", "engagements_gain", "unique_clicks")
    return {
        **ledger,
        "snapshots": sorted(MetricSnapshot.objects.values_list("share_id", *snapshot_fields)),
        "retries": sorted(
            MetricWindowRetry.objects.values_list("share_id", "window", "attempts", "gave_up_at", "reason")
        ),
        "holds": sorted(ShareHold.objects.values_list("share_id", "reason", "detail", "released_at")),
        "publications": sorted(
            SharePublication.objects.values_list("pk", "state", "removed_at", "error_code", "last_error")
        ),
        "share_results": sorted(ShareResult.objects.values_list()),
        "result_hours": sorted(CampaignResultHour.objects.filter(snapshots__gt=0).values_list(*hour_fields)),
        # Accruals land in the hour of their booking (wall clock): compared per campaign.
        "spend": sorted(
            CampaignResultHour.objects.values("campaign_id")
            .annotate(earned=Sum("earned_minor"), fee=Sum("fee_minor"))
            .values_list("campaign_id", "earned", "fee")
        ),
        "result_groups": sorted(
            CampaignResultGroup.objects.values_list(
                "campaign_id", "key", "shares", "reach", "impressions", "engagements", "earned_minor"
            )
        ),
    }


def _run(rounds: list[list[MetricRead]], moments: list[datetime], *, per_row: bool) -> list[metrics.PullReport]:
    reports = []
    for reads, now in zip(rounds, moments, strict=True):
        # Each round sees the publications as a pull loads them (a removal changes the state).
        fresh = {p.pk: p for p in _load([read.publication.pk for read in reads])}
        reads = [MetricRead(fresh[read.publication.pk], read.windows, read.snapshot) for read in reads]
        reports.append(metrics.metric_reads_store(reads=reads, now=now, per_row=per_row))
    return reports


def _outcome(action: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run ``action`` in a savepoint, return what it returned and the state it left, then roll it back."""
    captured: dict[str, Any] = {}
    try:
        with transaction.atomic():
            captured["result"] = action()
            captured["state"] = _state()
            raise _Rollback
    except _Rollback:
        pass
    return captured["result"], captured["state"]


def test_the_set_path_stores_what_the_per_row_path_stores() -> None:
    assert connection.vendor == "postgresql"
    rounds, moments = _scenario()
    per_row_reports, per_row = _outcome(lambda: _run(rounds, moments, per_row=True))
    set_reports, set_based = _outcome(lambda: _run(rounds, moments, per_row=False))

    for part in per_row:
        assert set_based[part] == per_row[part], part
    assert [(r.snapshots, r.removed, r.unknown) for r in set_reports] == [
        (r.snapshots, r.removed, r.unknown) for r in per_row_reports
    ]
    # The scenario covers what it claims to.
    accruals = per_row["accruals"]
    assert min(value[4] for value in accruals.values()) < 0  # a reversal
    assert {reason for _share, reason, _detail, _released in per_row["holds"]} >= {
        "reach_anomaly",
        "engagement_anomaly",
    }
    assert [row[1] for row in per_row["retries"]] == ["+6h"]
    assert any(state == PublicationState.REMOVED for _pk, state, *_rest in per_row["publications"])
    sandbox_keys = {
        str(pk)
        for pk in SharePublication.objects.filter(share__connected_account__network=Network.SANDBOX).values_list(
            "share_id", flat=True
        )
    }
    assert len({key for key, _window in accruals} & sandbox_keys) == 1  # the demo brand's share only
    assert len(per_row["snapshots"]) == 21


def test_the_set_path_keeps_the_rollups_equal_to_a_rebuild() -> None:
    rounds, moments = _scenario()
    _run(rounds, moments, per_row=False)
    kept = _state()
    with connection.cursor() as cursor:
        cursor.execute("SELECT campaigns_results_rebuild(); SELECT campaigns_result_groups_rebuild()")
    rebuilt = _state()
    for part in ("share_results", "result_hours", "result_groups"):
        assert kept[part] == rebuilt[part], part


def test_storing_the_same_reads_again_stores_and_books_nothing() -> None:
    rounds, moments = _scenario()
    first = _run(rounds, moments, per_row=False)
    once = _state()
    again = _run(rounds, moments, per_row=False)
    twice = _state()

    assert sum(report.snapshots for report in first) == 21
    assert sum(report.snapshots for report in again) == 0
    # The unknown read is tried once more (a retry row's attempts), nothing else changes.
    for part in once:
        if part != "retries":
            assert twice[part] == once[part], part
    assert [row[2] for row in twice["retries"]] == [row[2] + 1 for row in once["retries"]]


def test_a_refused_delta_rolls_the_chunk_back_and_stores_it_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds, moments = _scenario()
    from campaigns.metrics import services_batch

    real = services_batch.earnings_accrue_batch
    calls: list[int] = []

    def refusing(**kwargs: Any) -> Any:
        result = real(**kwargs)
        calls.append(result.deltas)
        return type(result)(**{**result.__dict__, "refused": 1})

    monkeypatch.setattr(services_batch, "earnings_accrue_batch", refusing)
    _reports, fallen_back = _outcome(lambda: _run(rounds, moments, per_row=False))
    monkeypatch.undo()
    _reports, per_row = _outcome(lambda: _run(rounds, moments, per_row=True))

    assert calls  # the set path was tried, refused, rolled back
    for part in per_row:
        assert fallen_back[part] == per_row[part], part


@pytest.mark.parametrize("spike_first", [False, True])
def test_a_read_sees_the_snapshots_of_earlier_reads_of_the_same_store_only(spike_first: bool) -> None:
    """The engagement history of a read is what the per-row path saw at its turn: the influencer's other
    shares read earlier in the same chunk count, those read after it do not (no history: no hold)."""
    published_at = timezone.now() - timedelta(days=1)
    usual = _account(Network.MASTODON, followers=1_000)
    history = [_publication(funded_campaign(), usual, published_at) for _ in range(3)]
    spike = _publication(funded_campaign(), usual, published_at)
    reads = [_read(item, ["+1h"], likes=9, shares=1, replies=0) for item in history]
    spike_read = _read(spike, ["+1h"], likes=400, shares=50, replies=20)
    reads = [spike_read, *reads] if spike_first else [*reads, spike_read]
    now = timezone.now()

    _per_row_reports, per_row = _outcome(lambda: _run([reads], [now], per_row=True))
    _set_reports, set_based = _outcome(lambda: _run([reads], [now], per_row=False))

    assert set_based["holds"] == per_row["holds"]
    assert bool(per_row["holds"]) is not spike_first


def test_holds_opened_in_one_statement_keep_an_open_hold_and_the_first_detail() -> None:
    from campaigns.models import HoldReason
    from campaigns.tracking.services import share_hold_open, share_holds_open

    published_at = timezone.now() - timedelta(days=1)
    campaign = funded_campaign()
    held = _publication(campaign, _account(Network.BLUESKY), published_at).share
    fresh = _publication(campaign, _account(Network.BLUESKY), published_at).share
    share_hold_open(share_id=held.pk, reason=HoldReason.REACH_ANOMALY, detail="before")

    opened = share_holds_open(
        holds=[
            (held.pk, HoldReason.REACH_ANOMALY, "again"),
            (fresh.pk, HoldReason.ENGAGEMENT_ANOMALY, "first"),
            (fresh.pk, HoldReason.ENGAGEMENT_ANOMALY, "second"),
            (fresh.pk, HoldReason.REACH_ANOMALY, "x" * 400),
        ]
    )

    assert opened == 2
    rows = sorted(ShareHold.objects.values_list("share_id", "reason", "detail"))
    assert rows == sorted(
        [
            (held.pk, HoldReason.REACH_ANOMALY, "before"),
            (fresh.pk, HoldReason.ENGAGEMENT_ANOMALY, "first"),
            (fresh.pk, HoldReason.REACH_ANOMALY, "x" * 300),
        ]
    )
