"""The caption and targeting facts in ``campaigns.networks_info`` agree with each provider's capabilities.

The page-side table keeps facts only the UI needs (labels, how links count, graphemes, notes); the
facts it shares with the publishing adapters must not drift from them.
"""

from __future__ import annotations

import pytest

from campaigns.networks_info import NETWORKS
from networks.providers.registry import provider_class
from networks.providers.types import LinkHandling


@pytest.mark.parametrize("code", sorted(NETWORKS))
def test_the_shared_facts_match_the_provider(code: str) -> None:
    info = NETWORKS[code]
    capabilities = provider_class(code).capabilities

    if info.max_chars is not None:
        assert info.max_chars == capabilities.max_chars
    # "Reports reach" on the pages means a figure CPM pricing is paid on: unique reach, or impressions/views
    # (X, Threads), which the provider's ``reach_reported`` (unique reach only) does not count.
    assert info.reports_reach == bool({"reach", "impressions"} & set(capabilities.metrics))
    assert info.links_clickable == (capabilities.link_handling != LinkHandling.NOT_CLICKABLE)
    assert info.needs_media == capabilities.image_required


def test_every_network_with_a_provider_has_page_facts() -> None:
    from django.conf import settings

    assert set(NETWORKS) <= set(settings.NETWORK_PROVIDERS)
