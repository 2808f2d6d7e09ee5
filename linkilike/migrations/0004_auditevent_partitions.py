"""Audit events partitioned by month on ``created_at`` in PostgreSQL (ADR 19); SQLite keeps a plain table.

Every row is kept, with its id, indexes and the append-only trigger (migration 0003; a row trigger on the
partitioned table applies to every partition). No unique constraint besides the primary key, which becomes
``(id, created_at)``; no foreign key points at audit events. Reversible: the reverse copies the rows back
into one plain table.
"""

from django.db import migrations

from linkilike.partitions import table_partition, table_unpartition

TABLE, COLUMN = "platform_auditevent", "created_at"


def forward(apps, schema_editor):
    table_partition(schema_editor, TABLE, COLUMN)


def backward(apps, schema_editor):
    table_unpartition(schema_editor, TABLE, COLUMN)


class Migration(migrations.Migration):
    dependencies = [("platform", "0003_auditevent_append_only")]

    operations = [migrations.RunPython(forward, backward)]
