"""Test helpers shared by test_x.py, test_linkedin.py and test_tumblr.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from networks import services
from networks.models import ConnectedAccount
from networks.providers.base import NetworkProvider
from networks.providers.types import ClientCredentials, MetricsSnapshot, TokenSet
from networks.tests.doubles.base import Double, DoubleState
from tests.factories.influencers import InfluencerProfileFactory

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201"
    "a5d2ab7c0000000049454e44ae426082"
)
REDIRECT = "http://testserver/i/accounts/callback/"


def client_for(state: DoubleState) -> ClientCredentials:
    return ClientCredentials(client_id=state.client_id, client_secret=state.client_secret, redirect_uri=REDIRECT)


def authorize(provider: NetworkProvider) -> tuple[str, str]:
    """Follow the consent page (the double consents at once); return ``(code, code_verifier)``."""
    start = provider.begin_auth(redirect_uri=REDIRECT)
    answer = requests.get(start.authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [start.state]
    return query["code"][0], start.code_verifier


def connect(provider: NetworkProvider) -> TokenSet:
    code, verifier = authorize(provider)
    return provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier=verifier)


SETTING_PREFIX = {"x": "X", "linkedin": "LINKEDIN", "tumblr": "TUMBLR"}


def configure(settings: Any, network: str, double: Double) -> None:
    """Point the network's settings (API host, app credentials) at ``double``."""
    prefix = SETTING_PREFIX[network]
    setattr(settings, f"{prefix}_API_URL", double.url)
    setattr(settings, f"{prefix}_CLIENT_ID", double.state.client_id)
    setattr(settings, f"{prefix}_CLIENT_SECRET", double.state.client_secret)


def connect_through_platform(network: str, double: Double) -> ConnectedAccount:
    """The platform's connect flow (services.account_connect_begin/complete) against ``double``."""
    start = services.account_connect_begin(network=network, instance_url=double.url, redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [start.state]
    return services.account_connect_complete(
        influencer=InfluencerProfileFactory(),
        network=network,
        instance_url=double.url,
        code=query["code"][0],
        code_verifier=start.code_verifier,
        redirect_uri=REDIRECT,
    )


METRIC_FIELDS = ("likes", "shares", "replies", "quotes", "bookmarks", "reach", "impressions", "clicks")


def assert_only_declared_metrics(provider: NetworkProvider, snapshot: MetricsSnapshot) -> None:
    """A metric the provider does not declare in its capabilities is None (never 0); declared ones came back."""
    for name in METRIC_FIELDS:
        if name not in provider.capabilities.metrics:
            assert getattr(snapshot, name) is None, name
    assert any(getattr(snapshot, name) is not None for name in provider.capabilities.metrics)
