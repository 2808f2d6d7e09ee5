"""Charts in German: numbers in SVG markup are never localized (issue "What people see", 5).

German writes decimals with a comma; a coordinate rendered as ``cx="160,0"`` is not a number, so every
point lands in the corner. Every template that draws an ``<svg>`` is rendered here in German and English
and each coordinate attribute must parse as floats. A new chart template fails the inventory test until
it gets a renderer below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from campaigns.tracking.chart import small_chart

TEMPLATES = Path(settings.BASE_DIR) / "templates"
NUMBER_ATTRIBUTES = {"cx", "cy", "r", "x", "y", "x1", "y1", "x2", "y2", "width", "height"}
LIST_ATTRIBUTES = {"points", "viewbox"}


def _results_charts() -> str:
    start = date(2026, 11, 2)
    rows = [(start + timedelta(days=day), value) for day, value in enumerate((3, 7, 7, 12, 25))]
    charts = [
        small_chart(key="reach", label="Reach", badge="network", rows=rows),
        small_chart(key="clicks", label="Clicks", badge="measured", rows=rows[:1]),  # one point: x in the middle
    ]
    return render_to_string("campaigns/partials/results_charts.html", {"charts": charts})


#: Every template with an <svg>, and how to render it with data.
CHART_RENDERERS: dict[str, Callable[[], str]] = {
    "campaigns/partials/results_charts.html": _results_charts,
}


class _SvgNumbers(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.values: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.depth += 1
        if self.depth:
            for name, value in attrs:
                if name in NUMBER_ATTRIBUTES | LIST_ATTRIBUTES:
                    self.values.append((tag, name, value or ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self.depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth -= 1


def _bad_numbers(html: str) -> list[str]:
    parser = _SvgNumbers()
    parser.feed(html)
    assert parser.values, "no SVG coordinates rendered"
    bad = []
    for tag, name, value in parser.values:
        # SVG lists separate numbers by whitespace or commas ("6.0,10.0 160.0,35.5"): a decimal comma
        # turns one number into two, so pairs must come out even and every part must be a float.
        parts = [part for part in re.split(r"[\s,]+", value.strip()) if part]
        try:
            [float(part) for part in parts]
        except ValueError:
            bad.append(f'<{tag} {name}="{value}">')
            continue
        if name == "points" and len(parts) % 2:
            bad.append(f'<{tag} {name}="{value}"> (odd number of coordinates)')
        if name in NUMBER_ATTRIBUTES and len(parts) != 1:
            bad.append(f'<{tag} {name}="{value}">')
    return bad


def test_every_svg_template_has_a_renderer() -> None:
    with_svg = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "<svg" in path.read_text(encoding="utf-8")
    }
    assert with_svg == set(CHART_RENDERERS), "render the new chart template in CHART_RENDERERS"


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("template", sorted(CHART_RENDERERS))
def test_chart_coordinates_are_plain_numbers(template: str, language: str) -> None:
    with translation.override(language):
        html = CHART_RENDERERS[template]()

    assert _bad_numbers(html) == []
    # The words around the chart are still localized (German dates).
    if language == "de":
        assert "02.11.2026" in html
