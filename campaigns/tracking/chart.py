"""Server-rendered line charts (inline SVG, no scripts, no inline styles: the CSP forbids both).

Every number that goes into the SVG markup is a string made here with ``_num`` (a dot, never the active
language's decimal comma): a German ``cx="160,0"`` is not a number and puts every point in the corner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.functional import Promise

WIDTH = 320
HEIGHT = 120
PAD_X = 6
PAD_TOP = 10
PAD_BOTTOM = 6


@dataclass(frozen=True)
class SmallChart:
    key: str
    label: str | Promise
    badge: str
    points: str  # SVG polyline points
    area: str  # SVG polygon points (area under the line)
    dots: list[tuple[str, str]]  # (cx, cy), already formatted for markup
    maximum: int
    last: int
    first_day: date
    last_day: date
    rows: list[tuple[date, int]]

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def height(self) -> int:
        return HEIGHT

    @property
    def first_label(self) -> str:
        return date_format(self.first_day, "SHORT_DATE_FORMAT")

    @property
    def last_label(self) -> str:
        return date_format(self.last_day, "SHORT_DATE_FORMAT")


def _num(value: float) -> str:
    """A coordinate for SVG markup: one decimal, a dot as separator, whatever the language."""
    return f"{value:.1f}"


def small_chart(*, key: str, label: str | Promise, badge: str, rows: Sequence[tuple[date, int]]) -> SmallChart | None:
    """One cumulative series as a small chart with its own scale (the three metrics differ by orders)."""
    if not rows:
        return None
    maximum = max(value for _day, value in rows) or 1
    span = (rows[-1][0] - rows[0][0]).days or 1
    inner_w = WIDTH - 2 * PAD_X
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    coords = []
    for day, value in rows:
        x = PAD_X + inner_w * ((day - rows[0][0]).days / span if len(rows) > 1 else 0.5)
        y = PAD_TOP + inner_h * (1 - value / maximum)
        coords.append((_num(x), _num(y)))
    points = " ".join(f"{x},{y}" for x, y in coords)
    base = _num(HEIGHT - PAD_BOTTOM)
    area = f"{coords[0][0]},{base} {points} {coords[-1][0]},{base}"
    return SmallChart(
        key=key,
        label=label,
        badge=badge,
        points=points,
        area=area,
        dots=coords if len(coords) <= 31 else [coords[-1]],
        maximum=max(value for _day, value in rows),
        last=rows[-1][1],
        first_day=rows[0][0],
        last_day=rows[-1][0],
        rows=list(rows),
    )
