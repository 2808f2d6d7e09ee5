"""The one CSV writer behind every CSV the app serves (campaign and influencer results, earnings).

Cells hold text that one person typed (campaign names, display names, post URLs) and another opens
in a spreadsheet, which runs a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection). Neutralising here, once, rather than per column in each
selector means a new column or a new export cannot forget it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse

#: what spreadsheets treat as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """The value as written: text that would start a formula gets a leading ``'``.

    Numbers pass unchanged: they cannot carry a formula, and a negative amount must stay a
    number in the spreadsheet, not become the text ``'-1.50``. Text that looks like a number does
    not: only the selector knows a column is numeric, so it yields ``int``/``Decimal`` there.
    """
    if isinstance(value, int | Decimal | float):
        return value
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Each row as one CSV line, every cell through ``csv_cell``."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_response(rows: Iterable[Iterable[object]], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download: rows are written as the selector yields them, never all in memory."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Exports hold earnings and names: no shared or browser cache keeps a copy.
    response["Cache-Control"] = "no-store"
    return response
