"""The words a brand's address (slug) must not take: the fixed routes beside ``/b/<brand_slug>/``.

A brand called "New" would otherwise get ``new``, and ``/b/new/`` is the create form, so its
members could never open it. The words are read from the URL patterns rather than typed here, so
a route added next to the brand slug later (``/b/import/``, ``/api/v1/brands/mine/``) is reserved
without anyone remembering this list.
"""

from __future__ import annotations

import functools
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

#: the path converter every brand-scoped route uses (ADR 2).
BRAND_SLUG_PARAMETER = "<slug:brand_slug>"


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    """Every full route of the URLconf as text (``b/<slug:brand_slug>/members/``), regex anchors dropped."""
    routes: list[str] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern).removeprefix("^").removesuffix("$")
        if isinstance(pattern, URLResolver):
            routes.extend(_routes(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


@functools.cache
def brand_reserved_slugs() -> frozenset[str]:
    """The literal first segments of routes that share a prefix with a brand slug (``new`` of ``b/new/``)."""
    routes = _routes(get_resolver().url_patterns)
    prefixes = {route.split(BRAND_SLUG_PARAMETER, 1)[0] for route in routes if BRAND_SLUG_PARAMETER in route}
    words: set[str] = set()
    for route in routes:
        for prefix in prefixes:
            if not route.startswith(prefix):
                continue
            word = route[len(prefix) :].split("/", 1)[0]
            # A converter or regex there is the brand slug itself (or another parameter), not a word.
            if word and not any(char in word for char in "<(["):
                words.add(word.lower())
    return frozenset(words)
