from __future__ import annotations

from collections.abc import Iterator

import pytest

from networks.tests.bluesky_devenv import atproto_devenv
from networks.tests.mastodon_double import MastodonDouble, running_double

#: The session fixture lives here once: imported into several test modules, pytest would start one dev-env per module.
__all__ = ["atproto_devenv"]


@pytest.fixture
def mastodon_double() -> Iterator[MastodonDouble]:
    with running_double() as double:
        yield double
