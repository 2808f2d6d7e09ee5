"""The shared CSV writer: text that would start a formula is quoted, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from linkilike.csv_export import csv_cell, csv_lines, csv_response


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Spring roast", "Spring roast"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        # Typed numbers cannot carry a formula: a negative amount stays a number.
        (-3, -3),
        (Decimal("-1.50"), Decimal("-1.50")),
        (0, 0),
    ],
)
def test_csv_cell(value: object, written: object) -> None:
    assert csv_cell(value) == written


def test_rows_round_trip_through_a_csv_reader() -> None:
    rows = [["name", "amount"], ["=1+1", Decimal("-1.50")], ["multi\nline, with comma", 7]]
    text = "".join(csv_lines(rows))
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["name", "amount"],
        ["'=1+1", "-1.50"],
        ["multi\nline, with comma", "7"],
    ]


def test_the_response_streams_an_attachment_nobody_caches() -> None:
    response = csv_response(iter([["a"], ["-b"]]), filename="x.csv")
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content) == b"a\r\n'-b\r\n"
