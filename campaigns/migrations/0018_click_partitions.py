"""Clicks partitioned by month on ``occurred_at`` in PostgreSQL (ADR 19); SQLite keeps a plain table.

Every row is kept (copied into the partitioned table), with its id, indexes, the link's foreign key and
the results rollup triggers (ADR 12, statement-level with transition tables, which PostgreSQL allows on
a partitioned table). PostgreSQL requires the partition column in every unique key: the primary key is
``(id, occurred_at)`` and ``event_id`` is unique with ``occurred_at``; a replayed drain batch carries the
same ``occurred_at`` for an event (it is in the queued event), so a replay still inserts nothing twice.
No foreign key points at clicks. Reversible: the reverse copies the rows back into one plain table.
"""

from django.db import migrations

from linkilike.partitions import table_partition, table_unpartition

TABLE, COLUMN = "campaigns_click", "occurred_at"


def forward(apps, schema_editor):
    table_partition(schema_editor, TABLE, COLUMN)


def backward(apps, schema_editor):
    table_unpartition(schema_editor, TABLE, COLUMN)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0017_snapshot_rollup_per_statement")]

    operations = [migrations.RunPython(forward, backward)]
