"""Clicks partitioned by month (ADR 19): next month's partition is made ahead and rows at the month
boundary land in their months; the default partition catches what no month covers and maintenance moves
it out; retention detaches or drops old months but never one with clicks still to be paid; the migration
keeps every row both ways."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Click, ShareResult
from campaigns.tracking import services
from campaigns.tracking.capture import ClickEvent
from campaigns.tracking.partitions import CLICKS
from linkilike import partitions
from linkilike import tasks as platform_tasks
from tests.factories.tracking import ClickFactory, TrackingLinkFactory

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL only"),
]

MIGRATION = importlib.import_module("campaigns.migrations.0018_click_partitions")


def _where(click_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM campaigns_click WHERE id = %s", [click_id])
        return cursor.fetchone()[0]


def _tables(pattern: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind IN ('r', 'p') ORDER BY 1", [pattern]
        )
        return [name for (name,) in cursor.fetchall()]


def _attached() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'campaigns_click'::regclass")
        return {name for (name,) in cursor.fetchall()}


def test_the_beat_task_creates_next_months_partition_and_rows_at_the_boundary_land_in_their_months():
    this_month = partitions.month_floor(timezone.now())
    next_month = partitions.month_add(this_month, 1)
    nxt = partitions.partition_name("campaigns_click", next_month)
    with connection.cursor() as cursor:  # as if the month had never been made ahead
        cursor.execute(f'ALTER TABLE campaigns_click DETACH PARTITION "{nxt}"')
        cursor.execute(f'DROP TABLE "{nxt}"')
    assert nxt not in _attached()

    platform_tasks.partitions_maintain()

    assert nxt in _attached()
    link = TrackingLinkFactory()
    last = ClickFactory(link=link, occurred_at=next_month - timedelta(microseconds=1))
    first = ClickFactory(link=link, occurred_at=next_month)
    assert _where(last.pk) == partitions.partition_name("campaigns_click", this_month)
    assert _where(first.pk) == nxt
    assert ShareResult.objects.get(share=link.share).unique_clicks == 2  # the rollup trigger still counts


def test_a_click_no_month_covers_lands_in_the_default_partition_and_maintenance_moves_it_out():
    link = TrackingLinkFactory()
    far = datetime(2031, 5, 31, 23, 59, 59, 999999, tzinfo=UTC)
    click = ClickFactory(link=link, occurred_at=far)
    assert _where(click.pk) == "campaigns_click_default"

    reports = partitions.partitions_maintain([CLICKS])

    assert "campaigns_click_p203105" in reports["campaigns_click"].created
    assert reports["campaigns_click"].moved_from_default == 1
    assert _where(click.pk) == "campaigns_click_p203105"
    assert Click.objects.get(pk=click.pk).event_id == click.event_id
    assert ShareResult.objects.get(share=link.share).unique_clicks == 1  # moved, not counted twice
    again = ClickFactory(link=link, occurred_at=far - timedelta(days=3))
    assert _where(again.pk) == "campaigns_click_p203105"


def test_a_replayed_drain_batch_inserts_nothing_twice_on_the_partitioned_table():
    link = TrackingLinkFactory()
    events = [
        ClickEvent(
            link_id=link.pk,
            event_id=f"{index:032x}",
            occurred_at=(timezone.now() - timedelta(seconds=index)).timestamp(),
            ip_hash=f"{index:032x}",
            ua_hash="0" * 32,
            ua_family="Firefox",
            referrer_host="",
            is_head=False,
            is_prefetch=False,
            is_bot=False,
        )
        for index in range(5)
    ]
    assert len(services.clicks_record(events=events)) == 5
    services.clicks_record(events=events)
    Click.objects.bulk_create(
        [
            Click(link=link, event_id=e.event_id, occurred_at=datetime.fromtimestamp(e.occurred_at, tz=UTC))
            for e in events
        ],
        ignore_conflicts=True,
    )
    assert Click.objects.filter(link=link).count() == 5
    assert ShareResult.objects.get(share=link.share).unique_clicks == 5


def test_the_replay_check_reads_only_the_months_of_the_batch():
    link = TrackingLinkFactory()
    moment = timezone.now()
    event = ClickEvent(
        link_id=link.pk,
        event_id="f" * 32,
        occurred_at=moment.timestamp(),
        ip_hash="1" * 32,
        ua_hash="0" * 32,
        ua_family="Firefox",
        referrer_host="",
        is_head=False,
        is_prefetch=False,
        is_bot=False,
    )
    with CaptureQueriesContext(connection) as queries:
        services.clicks_record(events=[event])
    known = next(q["sql"] for q in queries.captured_queries if '"event_id" = ANY(' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + known.replace("SELECT", "SELECT", 1))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    this = partitions.partition_name("campaigns_click", partitions.month_floor(moment))
    assert this in plan
    assert (
        partitions.partition_name("campaigns_click", partitions.month_add(partitions.month_floor(moment), 2))
        not in plan
    )


@pytest.mark.parametrize("mode", ["detach", "drop"])
def test_months_past_the_retention_are_detached_for_archiving_or_dropped(settings, mode):
    settings.CLICKS_RETENTION_MONTHS = 2
    settings.PARTITIONS_EXPIRED = mode
    this_month = partitions.month_floor(timezone.now())
    old_month, kept_month = partitions.month_add(this_month, -3), partitions.month_add(this_month, -2)
    link = TrackingLinkFactory()
    old = ClickFactory(link=link, occurred_at=old_month + timedelta(days=1), accrued_at=timezone.now())
    ClickFactory(link=link, occurred_at=old_month + timedelta(days=2), billable=False, reason="bot")
    kept = ClickFactory(link=link, occurred_at=kept_month + timedelta(days=1), accrued_at=timezone.now())
    old_name = partitions.partition_name("campaigns_click", old_month)

    report = partitions.partitions_maintain([CLICKS])["campaigns_click"]

    assert report.expired == [old_name]
    assert old_name not in _attached()
    assert partitions.partition_name("campaigns_click", kept_month) in _attached()
    assert not Click.objects.filter(pk=old.pk).exists()
    assert Click.objects.filter(pk=kept.pk).exists()
    archived = _tables(f"{old_name}_archived_%")
    if mode == "detach":
        assert len(archived) == 1
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{archived[0]}"')  # noqa: S608 - our own table
            assert cursor.fetchone()[0] == 2
    else:
        assert archived == []
        assert _tables(old_name) == []
    assert ShareResult.objects.get(share=link.share).unique_clicks == 2  # the rollups keep their counts


def test_a_month_with_clicks_still_to_be_paid_is_never_expired(settings):
    settings.CLICKS_RETENTION_MONTHS = 1
    settings.PARTITIONS_EXPIRED = "drop"
    old_month = partitions.month_add(partitions.month_floor(timezone.now()), -4)
    unpaid = ClickFactory(occurred_at=old_month + timedelta(hours=5), billable=True, accrued_at=None)

    report = partitions.partitions_maintain([CLICKS])["campaigns_click"]

    name = partitions.partition_name("campaigns_click", old_month)
    assert report.kept == [name]
    assert report.expired == []
    assert Click.objects.filter(pk=unpaid.pk).exists()
    Click.objects.filter(pk=unpaid.pk).update(accrued_at=timezone.now())
    assert partitions.partitions_maintain([CLICKS])["campaigns_click"].expired == [name]


def test_keep_everything_by_default(settings):
    assert settings.CLICKS_RETENTION_MONTHS == 0
    old = ClickFactory(occurred_at=timezone.now() - timedelta(days=800), accrued_at=timezone.now())
    report = partitions.partitions_maintain([CLICKS])["campaigns_click"]
    assert report.expired == []
    assert Click.objects.filter(pk=old.pk).exists()


def test_the_migration_keeps_every_row_both_ways():
    this_month = partitions.month_floor(timezone.now())
    link = TrackingLinkFactory()
    moments = [
        partitions.month_add(this_month, -5) + timedelta(days=3),
        this_month + timedelta(hours=1),
        timezone.now(),
    ]
    clicks = [
        ClickFactory(link=link, occurred_at=at, billable=i != 1, reason="" if i != 1 else "bot")
        for i, at in enumerate(moments)
    ]
    before = sorted(Click.objects.values_list("id", "event_id", "occurred_at", "billable", "reason"))

    with connection.schema_editor() as editor:
        MIGRATION.backward(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'campaigns_click'")
        assert cursor.fetchone()[0] == "r"
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'campaigns_click_event_id_key'"
        )
        assert cursor.fetchone()[0] == "UNIQUE (event_id)"
    assert sorted(Click.objects.values_list("id", "event_id", "occurred_at", "billable", "reason")) == before
    assert ShareResult.objects.get(share=link.share).unique_clicks == 2
    ClickFactory(link=link)  # the rollup trigger came back with the plain table
    assert ShareResult.objects.get(share=link.share).unique_clicks == 3

    with connection.schema_editor() as editor:
        MIGRATION.forward(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'campaigns_click'")
        assert cursor.fetchone()[0] == "p"
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'campaigns_click_event_id_key'"
        )
        assert cursor.fetchone()[0] == "UNIQUE (event_id, occurred_at)"
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'campaigns_click_pkey'")
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, occurred_at)"
    assert _where(clicks[0].pk) == partitions.partition_name("campaigns_click", partitions.month_add(this_month, -5))
    assert _where(clicks[1].pk) == partitions.partition_name("campaigns_click", this_month)
    assert partitions.partition_name("campaigns_click", partitions.month_add(this_month, 3)) in _attached()
    assert "campaigns_click_default" in _attached()
    assert Click.objects.count() == len(before) + 1
    newest = ClickFactory(link=link)
    assert newest.pk > max(row[0] for row in before) + 1  # the identity went on where it was
    assert ShareResult.objects.get(share=link.share).unique_clicks == 4
    assert set(_index_names()) >= {
        "campaigns_click_link_time",
        "campaigns_click_accrual",
        "campaigns_click_billable",
        "campaigns_click_visitor",
        "campaigns_click_unpaid",
    }


def _index_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'campaigns_click'")
        return [name for (name,) in cursor.fetchall()]
