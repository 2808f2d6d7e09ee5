"""Test set-up shared by every app. Settings detect pytest and default to the local
PostgreSQL and Redis with eager Celery (see linkilike/settings.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache_and_media(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Each test starts with an empty cache (rate limits!) and its own media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()
