"""Storage settings of PostgreSQL tables that migrations apply (ADR 23). No-ops on other databases.

* ``fillfactor``: how full PostgreSQL packs a table's pages on insert. Rollup and counter rows (a share's
  totals, its results, a campaign's groups and hours, an account's balance) are updated far more often
  than inserted. An update that changes no indexed column can stay on its page ("HOT": no index entry
  written) only if the page has room for the new version; at the default of 100 a page is full from
  the start, so every update also writes one entry into each of the table's indexes.
* text-pattern indexes: Django adds a ``varchar_pattern_ops`` index next to the plain or unique index of
  every indexed text column, for ``LIKE 'prefix%'``. Columns compared whole never use it, and every
  insert pays for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: Counter and rollup tables: half of each page stays free for new versions of its rows, so every row
#: can be updated once within a transaction (old versions are pruned between transactions) without
#: leaving its page.
ROLLUP_FILLFACTOR = 50

Migrate = Callable[[Any, Any], None]


def fillfactor(tables: Sequence[str], percent: int) -> tuple[Migrate, Migrate]:
    """RunPython (forward, backward) setting ``tables``' fillfactor to ``percent``, and back to the default.

    Applies to pages written from now on; pages already full get the room when the table is next
    rewritten (``VACUUM FULL``, ``CLUSTER`` or pg_repack).
    """

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for table in tables:
                schema_editor.execute(f'ALTER TABLE "{table}" SET (fillfactor = {int(percent)})')

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for table in tables:
                schema_editor.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')

    return forward, backward


def pattern_indexes_dropped(indexes: Sequence[tuple[str, str, str]]) -> tuple[Migrate, Migrate]:
    """RunPython (forward, backward) dropping, and recreating, text-pattern indexes: (name, table, column)."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name, _table, _column in indexes:
                schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name, table, column in indexes:
                schema_editor.execute(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)'
                )

    return forward, backward
