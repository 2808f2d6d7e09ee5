"""Test set-up shared by every app. Settings detect pytest and default to the local
PostgreSQL and Redis with eager Celery (see linkilike/settings.py)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import AppConfig
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db.models.signals import post_migrate
from django.utils import translation

from tests.doubles.s3 import MediaBucket, S3Server, running_s3_server

#: Data migrations whose rows every test may rely on (the topics, the site's name).
REFERENCE_DATA_MIGRATIONS = [
    ("influencers.migrations.0002_seed_topics", "seed"),
    ("accounts.migrations.0002_site_identity", "name_the_site"),
]


def _reference_rows_restore(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Replays the data migrations after every flush: a transactional test empties every table when it ends,
    and the tests after it (on the same pytest-xdist worker, or in the next run of a reused test database)
    would otherwise find no topics. Django sends post_migrate after each flush, and after migrate at set-up."""
    if sender.label != "influencers" or using != "default":  # post_migrate is sent once per app
        return
    for module, function in REFERENCE_DATA_MIGRATIONS:
        getattr(import_module(module), function)(django_apps, None)


post_migrate.connect(_reference_rows_restore, dispatch_uid="tests-reference-rows")


#: Tests that share one fixed-port server or a whole stack run on one pytest-xdist worker (``--dist loadgroup``
#: in ``make test``): the local Bluesky network binds ports 2581-2587 once per test run, and the browser
#: journeys each start gunicorn, a worker and beat, which two at once would only slow down on two cores.
XDIST_GROUPS = {"bluesky": "bluesky", "browser": "browser"}


# tryfirst: pytest-xdist's own hook reads the xdist_group markers to put each group on one worker; a marker
# added after it has run is ignored (the Bluesky tests were then split over two workers, and the second one
# found the dev-env's fixed ports taken by the first).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        uses_devenv = "atproto_devenv" in getattr(item, "fixturenames", ())
        for marker, group in XDIST_GROUPS.items():
            if item.get_closest_marker(marker) or (marker == "bluesky" and uses_devenv):
                item.add_marker(pytest.mark.xdist_group(group))
                break


def _clear_cache() -> None:
    """Empty this run's cache keys only: other test runs may share the Redis server."""
    prefix = django_settings.CACHES["default"].get("KEY_PREFIX")
    client_factory = getattr(cache, "_cache", None)
    if not prefix or client_factory is None or not hasattr(client_factory, "get_client"):
        cache.clear()
        return
    client = client_factory.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _clean_cache_and_media(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Each test starts with an empty cache (rate limits!) and its own media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    _clear_cache()
    yield
    _clear_cache()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's default language: a request in German must not leave German active
    for the next test in the same worker (messages asserted in English would then fail only in some orders)."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _platform_bank_account(settings: Any) -> None:
    """The platform's own bank account, which has no default (payouts/providers/bank_transfer.py): tests run
    as a configured installation. A test of the unconfigured one empties it."""
    settings.PAYOUTS_PLATFORM_ACCOUNT_NAME = "Linkilike GmbH"
    settings.PAYOUTS_PLATFORM_IBAN = "AT611904300234573201"
    settings.PAYOUTS_PLATFORM_BIC = "BKAUATWW"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (moto's, in a subprocess on a free port) for this test session."""
    with running_s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_media(settings: Any, s3_server: S3Server) -> MediaBucket:
    """Uploads go to a new private bucket on ``s3_server`` through ``linkilike.media_storage`` for this test."""
    bucket = MediaBucket(server=s3_server, name=s3_server.bucket_create())
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "linkilike.media_storage.MediaS3Storage",
            "OPTIONS": s3_server.storage_options(bucket.name, querystring_expire=settings.MEDIA_URL_SECONDS),
        },
    }
    return bucket
