"""Key formats of the ledger, each written once and rendered two ways.

A ``KeyFormat`` is a template such as ``"{kind}:campaign={campaign}:{currency}"``. ``format`` fills it with
Python values (the per-row bookings); ``sql`` turns it into a PostgreSQL string expression whose fields are
SQL expressions (the set-based bookings), so both paths always build the same account keys and idempotency
keys and no SQL retypes a format.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter


def sql_literal(text: str) -> str:
    """``text`` as a PostgreSQL string literal (quotes doubled). Only for constants of the code."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class KeyFormat:
    template: str
    #: Longer keys are cut to this length (the column's), the same way in Python and SQL.
    max_length: int | None = None

    def format(self, **values: object) -> str:
        key = self.template.format(**values)
        return key[: self.max_length] if self.max_length is not None else key

    def sql(self, **expressions: str) -> str:
        """The key as SQL: literal parts quoted, each field the SQL expression given for it (cast to text)."""
        parts: list[str] = []
        for literal, field, _spec, _conversion in Formatter().parse(self.template):
            if literal:
                parts.append(sql_literal(literal))
            if field is not None:
                parts.append(f"({expressions[field]})::text")
        expression = " || ".join(parts)
        return f"left({expression}, {self.max_length})" if self.max_length is not None else f"({expression})"
