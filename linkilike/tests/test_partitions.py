"""Audit events partitioned by month (ADR 19): the boundary, the append-only trigger on every partition,
retention, the migration both ways; the month arithmetic; SQLite untouched."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from linkilike import partitions
from linkilike.models import AuditEvent

MIGRATION = importlib.import_module("linkilike.migrations.0004_auditevent_partitions")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL only")


def _event(at: datetime) -> AuditEvent:
    return AuditEvent.objects.create(
        created_at=at, category="money", action="test", target_type="test", target_id="1", reason="partitions"
    )


def _where(event_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM platform_auditevent WHERE id = %s", [event_id])
        return cursor.fetchone()[0]


def test_month_arithmetic():
    assert partitions.month_floor(datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == datetime(
        2026, 12, 1, tzinfo=UTC
    )
    assert partitions.month_add(datetime(2026, 12, 1, tzinfo=UTC), 1) == datetime(2027, 1, 1, tzinfo=UTC)
    assert partitions.month_add(datetime(2026, 1, 1, tzinfo=UTC), -13) == datetime(2024, 12, 1, tzinfo=UTC)
    assert partitions.months_between(datetime(2026, 11, 30, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC)) == [
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    ]
    assert (
        partitions.partition_name("platform_auditevent", datetime(2027, 1, 1, tzinfo=UTC))
        == "platform_auditevent_p202701"
    )


@postgres_only
@pytest.mark.django_db
def test_next_months_partition_and_events_at_the_boundary():
    month = datetime(2032, 1, 1, tzinfo=UTC)
    created = partitions.partitions_ensure(partitions.AUDIT_EVENTS, now=month - timedelta(days=3), months_ahead=1)
    assert created == ["platform_auditevent_p203112", "platform_auditevent_p203201"]
    assert partitions.partitions_ensure(partitions.AUDIT_EVENTS, now=month - timedelta(days=3), months_ahead=1) == []
    last = _event(month - timedelta(microseconds=1))
    first = _event(month)
    assert _where(last.pk) == "platform_auditevent_p203112"
    assert _where(first.pk) == "platform_auditevent_p203201"


@postgres_only
@pytest.mark.django_db
def test_every_partition_stays_append_only():
    event = _event(timezone.now())
    far = _event(datetime(2035, 6, 1, tzinfo=UTC))  # the default partition
    for row in (event, far):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=row.pk).update(reason="rewritten")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=row.pk).delete()
    partitions.partitions_maintain([partitions.AUDIT_EVENTS])  # moves the default's row (no DELETE needed)
    assert _where(far.pk) == "platform_auditevent_p203506"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=far.pk).delete()


@postgres_only
@pytest.mark.django_db
def test_audit_retention_drops_old_months(settings):
    settings.AUDIT_RETENTION_MONTHS = 12
    settings.PARTITIONS_EXPIRED = "drop"
    now = timezone.now()
    old = _event(partitions.month_add(partitions.month_floor(now), -13))
    kept = _event(partitions.month_add(partitions.month_floor(now), -12))
    report = partitions.partitions_maintain([partitions.AUDIT_EVENTS])["platform_auditevent"]
    assert report.expired == [partitions.partition_name("platform_auditevent", old.created_at)]
    assert list(AuditEvent.objects.filter(pk__in=[old.pk, kept.pk]).values_list("pk", flat=True)) == [kept.pk]


@postgres_only
@pytest.mark.django_db
def test_the_migration_keeps_every_row_both_ways():
    rows = [_event(timezone.now() - timedelta(days=days)) for days in (0, 40, 400)]
    before = sorted(AuditEvent.objects.values_list("id", "created_at", "reason"))
    with connection.schema_editor() as editor:
        MIGRATION.backward(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'platform_auditevent'")
        assert cursor.fetchone()[0] == "r"
    assert sorted(AuditEvent.objects.values_list("id", "created_at", "reason")) == before
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=rows[0].pk).delete()
    with connection.schema_editor() as editor:
        MIGRATION.forward(None, editor)
    assert sorted(AuditEvent.objects.values_list("id", "created_at", "reason")) == before
    oldest = partitions.month_floor(rows[2].created_at)
    assert _where(rows[2].pk) == partitions.partition_name("platform_auditevent", oldest)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=rows[2].pk).delete()
    assert _event(timezone.now()).pk > max(row[0] for row in before)


@pytest.mark.django_db
def test_nothing_to_do_without_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert partitions.partitions_maintain([partitions.AUDIT_EVENTS]) == {}
