from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from influencers.models import InfluencerProfile
from networks.tests.bluesky_devenv import atproto_devenv
from networks.tests.mastodon_double import MastodonDouble, running_double
from tests.factories.influencers import InfluencerProfileFactory

#: The session fixture lives here once: imported into several test modules, pytest would start one dev-env per module.
__all__ = ["atproto_devenv"]


@pytest.fixture
def mastodon_double() -> Iterator[MastodonDouble]:
    with running_double() as double:
        yield double


@pytest.fixture
def influencer() -> InfluencerProfile:
    """An influencer with a profile (modules with their own ``influencer`` fixture keep theirs)."""
    return InfluencerProfileFactory()  # type: ignore[return-value]


@pytest.fixture
def signed_in(client: Client, influencer: InfluencerProfile) -> Client:
    client.force_login(influencer.user)
    return client
