from __future__ import annotations

from collections.abc import Iterator

import pytest

from networks.tests.mastodon_double import MastodonDouble, running_double


@pytest.fixture
def mastodon_double() -> Iterator[MastodonDouble]:
    with running_double() as double:
        yield double
