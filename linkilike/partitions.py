"""Monthly range partitions of the append-only tables that grow with traffic (ADR 19). PostgreSQL only.

A partitioned table ``t`` on column ``c`` has one partition per UTC month, ``t_pYYYYMM`` holding
``[first of the month, first of the next)``, and a DEFAULT partition ``t_default`` that catches any row
no month partition covers (a click dated before the oldest partition, or after the newest one if the
scheduler was down for months), so an insert never fails for want of a partition. ``partitions_maintain``
(beat, every 6 hours) keeps ``PARTITIONS_MONTHS_AHEAD`` months ready, moves rows the default partition caught into
partitions of their months, and expires the months older than the table's retention setting: detached
and kept as ``<partition>_archived_<when>`` for the operator to archive (``PARTITIONS_EXPIRED = "detach"``,
the default) or detached and dropped (``"drop"``).

The migrations that turn a table into a partitioned one call ``table_partition``; ``table_unpartition``
is its reverse. Both keep every row, the primary key's identity sequence, the check and foreign key
constraints, indexes and triggers. PostgreSQL requires the partition column in every unique constraint:
the primary key becomes ``(id, c)`` (Django still treats ``id`` as the key: the identity keeps it unique)
and a unique constraint without ``c`` gets it appended, marked by a comment so the reverse restores it.
SQLite (the embedded demo database) keeps plain tables: every function here does nothing there.
"""

# Table, partition and column names go into the SQL as identifiers: they come from this code (the
# ``PartitionedTable`` descriptions and the migrations), never from input, and are checked by ``_identifier``.
# ruff: noqa: S608

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_MONTHS_AHEAD = 3
#: Written on a unique constraint whose definition ``table_partition`` widened by the partition column.
WIDENED_COMMENT = "linkilike.partitions: partition column appended"
#: Maintenance never waits long for a table lock: traffic keeps writing; the next run tries again.
LOCK_TIMEOUT = "5s"
_MONTH_NAME = re.compile(r"_p(\d{4})(\d{2})$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain table or column name: {name!r}")
    return name


@dataclass(frozen=True)
class PartitionedTable:
    """One table partitioned by month on ``column``.

    ``retention_setting`` names the setting with the number of whole months kept before the current one
    (0 or unset: keep everything). ``keep_while`` is an SQL condition on the table's rows: a month holding
    such a row is never expired (clicks not yet turned into earnings), it waits for the next run.
    """

    table: str
    column: str
    retention_setting: str
    keep_while: str = ""
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _identifier(self.table)
        _identifier(self.column)

    def partition_name(self, month: datetime) -> str:
        return partition_name(self.table, month)

    @property
    def default_partition(self) -> str:
        return f"{self.table}_default"

    def retention_months(self) -> int:
        return max(int(getattr(settings, self.retention_setting, 0) or 0), 0)


AUDIT_EVENTS = PartitionedTable("platform_auditevent", "created_at", "AUDIT_RETENTION_MONTHS", label="audit events")


# --- months -------------------------------------------------------------------------------------


def month_floor(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def month_add(month: datetime, months: int) -> datetime:
    index = month.year * 12 + (month.month - 1) + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def months_between(first: datetime, last: datetime) -> list[datetime]:
    """Every month from ``first``'s to ``last``'s, both included."""
    months, month, last = [], month_floor(first), month_floor(last)
    while month <= last:
        months.append(month)
        month = month_add(month, 1)
    return months


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def _literal(moment: datetime) -> str:
    return f"'{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


def _create_month(execute: Any, table: str, month: datetime) -> str:
    name = partition_name(table, month)
    execute(
        f'CREATE TABLE "{name}" PARTITION OF "{table}" '
        f"FOR VALUES FROM ({_literal(month)}) TO ({_literal(month_add(month, 1))})"
    )
    return name


# --- reads of the catalog -----------------------------------------------------------------------


def _rows(cursor: Any, sql: str, params: Iterable[object] = ()) -> list[tuple[Any, ...]]:
    cursor.execute(sql, list(params))
    return list(cursor.fetchall())


def is_partitioned(cursor: Any, table: str) -> bool:
    return bool(_rows(cursor, "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table]))


def month_partitions(cursor: Any, table: str) -> dict[datetime, str]:
    """The table's month partitions by month (the DEFAULT partition and others not named by month left out)."""
    found: dict[datetime, str] = {}
    for (name,) in _rows(
        cursor,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
        [table],
    ):
        match = _MONTH_NAME.search(name)
        if match and name == partition_name(table, datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)):
            found[datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)] = name
    return found


@dataclass
class _Definition:
    """What a table carries besides its columns: re-created on the new table after the rows are copied."""

    constraints: list[tuple[str, str, str, str | None]]  # name, kind (p/u/f/x), definition, comment
    indexes: list[str]
    triggers: list[str]
    sequence_value: int | None


def _definition(cursor: Any, table: str) -> _Definition:
    constraints = [
        (name, kind, definition, comment)
        for name, kind, definition, comment in _rows(
            cursor,
            "SELECT conname, contype, pg_get_constraintdef(oid), obj_description(oid, 'pg_constraint') "
            "FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f', 'x') "
            "ORDER BY contype <> 'p', conname",
            [table],
        )
    ]
    indexes = [
        definition
        for (definition,) in _rows(
            cursor,
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
            "AND c.conrelid = i.indrelid) ORDER BY i.indexrelid",
            [table],
        )
    ]
    triggers = [
        definition
        for (definition,) in _rows(
            cursor,
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal "
            "ORDER BY tgname",
            [table],
        )
    ]
    sequence_value = None
    (sequence,) = _rows(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0]
    if sequence:
        (sequence_value,) = _rows(cursor, f"SELECT CASE WHEN is_called THEN last_value END FROM {sequence}")[0]
    return _Definition(constraints, indexes, triggers, sequence_value)


def _key_columns(definition: str) -> tuple[str, list[str], str]:
    match = re.match(r"^(PRIMARY KEY|UNIQUE(?: NULLS NOT DISTINCT)?) \(([^)]*)\)(.*)$", definition, re.S)
    if match is None:
        raise ValueError(f"cannot read the key of {definition!r}")
    return match[1], [column.strip() for column in match[2].split(",")], match[3]


def _rebuild(schema_editor: Any, table: str, column: str, *, partition: bool, months_ahead: int) -> None:
    """Copies ``table`` into a new table, partitioned by month on ``column`` or plain, and puts it in place."""
    execute = schema_editor.execute
    table, column = _identifier(table), _identifier(column)
    new = f"{table}__rebuild"
    # Deferred foreign key checks of rows written earlier in this transaction would refuse the DROP below.
    execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    with schema_editor.connection.cursor() as cursor:
        if is_partitioned(cursor, table) == partition:
            return
        definition = _definition(cursor, table)
        first, last = _rows(cursor, f'SELECT min("{column}"), max("{column}") FROM "{table}"')[0]
    by = f' PARTITION BY RANGE ("{column}")' if partition else ""
    execute(
        f'CREATE TABLE "{new}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY '
        f"INCLUDING GENERATED INCLUDING COMMENTS){by}",
        params=None,
    )
    if partition:
        now = timezone.now()
        months = months_between(min(first or now, now), month_add(month_floor(max(last or now, now)), months_ahead))
        for month in months:
            name = partition_name(table, month)
            execute(
                f'CREATE TABLE "{name}" PARTITION OF "{new}" '
                f"FOR VALUES FROM ({_literal(month)}) TO ({_literal(month_add(month, 1))})",
                params=None,
            )
        execute(f'CREATE TABLE "{table}_default" PARTITION OF "{new}" DEFAULT', params=None)
    # The new table has no triggers yet: the copy fires none (the rows are already counted wherever
    # triggers count them).
    execute(f'INSERT INTO "{new}" OVERRIDING SYSTEM VALUE SELECT * FROM "{table}"', params=None)
    execute(f'DROP TABLE "{table}"', params=None)  # no CASCADE: anything depending on the table stops us
    execute(f'ALTER TABLE "{new}" RENAME TO "{table}"', params=None)
    with schema_editor.connection.cursor() as cursor:
        (sequence,) = _rows(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0]
    if sequence:
        execute(f'ALTER SEQUENCE {sequence} RENAME TO "{table}_id_seq"', params=None)
        if definition.sequence_value is not None:
            execute(f"SELECT setval('\"{table}_id_seq\"', {int(definition.sequence_value)})", params=None)
    for name, kind, text, comment in definition.constraints:
        widened = False
        if kind == "x":
            raise ValueError(f"{table}: exclusion constraint {name} cannot be carried over")
        if kind in ("p", "u"):
            head, columns, tail = _key_columns(text)
            if partition and column not in columns:
                columns.append(column)
                widened = kind == "u"
            elif not partition and (kind == "p" or comment == WIDENED_COMMENT) and column in columns:
                columns.remove(column)
            text = f"{head} ({', '.join(columns)}){tail}"
        execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {text}', params=None)
        if widened:
            execute(f'COMMENT ON CONSTRAINT "{name}" ON "{table}" IS \'{WIDENED_COMMENT}\'', params=None)
    for text in definition.indexes:
        if partition and text.startswith("CREATE UNIQUE INDEX"):
            raise ValueError(f"{table}: a unique index outside a constraint cannot be carried over ({text})")
        execute(text, params=None)
    for text in definition.triggers:
        execute(text, params=None)


def table_partition(schema_editor: Any, table: str, column: str, *, months_ahead: int = DEFAULT_MONTHS_AHEAD) -> None:
    """Migration step: makes ``table`` partitioned by month on ``column``, keeping its rows.

    Partitions cover the months from the oldest row (or this month) to ``months_ahead`` after the newest
    row (or this month), plus the DEFAULT partition. Copies the rows in one statement: the table is
    locked while it runs (ADR 19 has the figures and the way for a table too big for that).
    """
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, table, column, partition=True, months_ahead=months_ahead)


def table_unpartition(schema_editor: Any, table: str, column: str) -> None:
    """The reverse of ``table_partition``: one plain table with every row of every attached partition."""
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, table, column, partition=False, months_ahead=0)


# --- maintenance ----------------------------------------------------------------------------------


@dataclass
class MaintenanceReport:
    created: list[str] = field(default_factory=list)
    moved_from_default: int = 0
    expired: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # due to expire but holding rows that must stay


def _default_rows_move(cursor: Any, spec: PartitionedTable, report: MaintenanceReport) -> None:
    """Gives every month with rows in the DEFAULT partition its own partition and moves the rows there.

    PostgreSQL refuses to create a partition for a range the DEFAULT partition holds rows of, so the
    default is detached, the months are created, its rows are copied straight into their partitions (no
    statement trigger of the parent fires: the rows are counted already) and into a fresh DEFAULT for the
    rest, and the old default is dropped (dropped, not emptied: an append-only table refuses DELETE).
    """
    default = spec.default_partition
    months = [
        month_floor(month)
        for (month,) in _rows(
            cursor, f"SELECT DISTINCT date_trunc('month', \"{spec.column}\", 'UTC') FROM \"{default}\" ORDER BY 1"
        )
        if month is not None
    ]
    if not months:
        return
    old = f"{default}__moving"
    cursor.execute(f'ALTER TABLE "{spec.table}" DETACH PARTITION "{default}"')
    cursor.execute(f'ALTER TABLE "{default}" RENAME TO "{old}"')
    cursor.execute(f'CREATE TABLE "{default}" PARTITION OF "{spec.table}" DEFAULT')
    existing = month_partitions(cursor, spec.table)
    for month in months:
        name = existing.get(month) or _create_month(cursor.execute, spec.table, month)
        if name not in existing.values():
            report.created.append(name)
        cursor.execute(
            f'INSERT INTO "{name}" SELECT * FROM "{old}" '
            f'WHERE "{spec.column}" >= {_literal(month)} AND "{spec.column}" < {_literal(month_add(month, 1))}'
        )
        report.moved_from_default += cursor.rowcount
    cursor.execute(f'INSERT INTO "{default}" SELECT * FROM "{old}" WHERE "{spec.column}" IS NULL')
    cursor.execute(f'DROP TABLE "{old}"')


def partitions_ensure(
    spec: PartitionedTable, *, now: datetime | None = None, months_ahead: int | None = None
) -> list[str]:
    """Creates the missing month partitions from this month to ``months_ahead`` months after it."""
    report = MaintenanceReport()
    _ensure(spec, month_floor(now or timezone.now()), _months_ahead(months_ahead), report)
    return report.created


def _months_ahead(months_ahead: int | None) -> int:
    if months_ahead is not None:
        return months_ahead
    return max(int(getattr(settings, "PARTITIONS_MONTHS_AHEAD", DEFAULT_MONTHS_AHEAD)), 1)


def _ensure(spec: PartitionedTable, month: datetime, months_ahead: int, report: MaintenanceReport) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_partitioned(cursor, spec.table):
            return
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # Deferred foreign key checks pending on a partition would refuse DETACH and DROP.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if _rows(cursor, f'SELECT 1 FROM "{spec.default_partition}" LIMIT 1'):
            _default_rows_move(cursor, spec, report)
        existing = month_partitions(cursor, spec.table)
        for wanted in months_between(month, month_add(month, months_ahead)):
            if wanted not in existing:
                report.created.append(_create_month(cursor.execute, spec.table, wanted))


def partitions_expire(spec: PartitionedTable, *, now: datetime | None = None, mode: str | None = None) -> list[str]:
    """Detaches the month partitions older than the table's retention; drops them (``mode="drop"``) or
    keeps them as ``<partition>_archived_<when>`` tables (``"detach"``). Returns the partitions expired."""
    report = MaintenanceReport()
    _expire(spec, now or timezone.now(), mode or _expired_mode(), report)
    return report.expired


def _expired_mode() -> str:
    mode = str(getattr(settings, "PARTITIONS_EXPIRED", "detach"))
    if mode not in ("detach", "drop"):
        raise ValueError(f"PARTITIONS_EXPIRED must be 'detach' or 'drop', not {mode!r}")
    return mode


def _expire(spec: PartitionedTable, now: datetime, mode: str, report: MaintenanceReport) -> None:
    keep = spec.retention_months()
    if not keep:
        return
    cutoff = month_add(month_floor(now), -keep)
    with connection.cursor() as cursor:
        if not is_partitioned(cursor, spec.table):
            return
        due = sorted((month, name) for month, name in month_partitions(cursor, spec.table).items() if month < cutoff)
    for _month, name in due:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if spec.keep_while and _rows(cursor, f'SELECT 1 FROM "{name}" WHERE {spec.keep_while} LIMIT 1'):
                logger.warning(
                    "partition %s is past its retention but holds rows that must stay (%s)", name, spec.keep_while
                )
                report.kept.append(name)
                continue
            cursor.execute(f'ALTER TABLE "{spec.table}" DETACH PARTITION "{name}"')
            if mode == "drop":
                cursor.execute(f'DROP TABLE "{name}"')
            else:
                cursor.execute(f'ALTER TABLE "{name}" RENAME TO "{name}_archived_{now:%Y%m%d%H%M%S}"')
            report.expired.append(name)


def partitions_maintain(
    tables: Iterable[PartitionedTable], *, now: datetime | None = None, months_ahead: int | None = None
) -> dict[str, MaintenanceReport]:
    """The beat task's work for each table: months ahead, rows out of the DEFAULT partition, retention."""
    if connection.vendor != "postgresql":
        return {}
    now = now or timezone.now()
    reports: dict[str, MaintenanceReport] = {}
    for spec in tables:
        report = reports[spec.table] = MaintenanceReport()
        _ensure(spec, month_floor(now), _months_ahead(months_ahead), report)
        _expire(spec, now, _expired_mode(), report)
        if report.created or report.expired or report.moved_from_default:
            logger.info(
                "partitions of %s: created %s, moved %s rows out of the default partition, expired %s (%s)",
                spec.table,
                report.created,
                report.moved_from_default,
                report.expired,
                _expired_mode(),
            )
    return reports
