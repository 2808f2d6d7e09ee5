"""Test set-up shared by every app: real PostgreSQL and Redis, eager Celery, factories."""

from __future__ import annotations

import os

os.environ.setdefault("LINKILIKE_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linkilike")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("LINKILIKE_VAR_DIR", "/tmp/linkilike-test-var")  # noqa: S108

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache_and_media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Each test starts with an empty cache (rate limits!) and its own media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()
