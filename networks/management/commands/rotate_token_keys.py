"""Re-encrypt every vault column under the newest key in LINKILIKE_FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in the list (keep the old one after it), deploy, run this
command, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, models, transaction

from networks.vault import EncryptedTextField, rotate


def _rotate_model(model: type[models.Model]) -> int:
    columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    if not columns:
        return 0
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(model._meta.pk.column)
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # The raw column values are rotated as they are; nothing is decrypted into Python objects.
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        cursor.execute(f"SELECT {pk_column}, {', '.join(map(quote, columns))} FROM {table}{lock}")  # noqa: S608
        for pk, *values in cursor.fetchall():
            updates = {column: rotate(value) for column, value in zip(columns, values, strict=True) if value}
            if not updates:
                continue
            assignments = ", ".join(f"{quote(column)} = %s" for column in updates)
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608
                [*updates.values(), pk],
            )
            count += 1
    return count


class Command(BaseCommand):
    help = "Re-encrypt all stored tokens and secrets under the newest encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            count = _rotate_model(model)
            if count:
                self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            total += count
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted under the newest key."))
