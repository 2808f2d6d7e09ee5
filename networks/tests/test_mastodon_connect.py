"""Connecting and disconnecting a Mastodon account through the pages and services, against the double:
the server address people type, servers that moved, and the token withdrawn at the server on disconnect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from influencers.models import InfluencerProfile
from networks import services
from networks.models import ConnectedAccount, OAuthApp
from networks.tests.mastodon_double import MastodonDouble, running_double

pytestmark = pytest.mark.django_db

REDIRECT = "http://testserver/i/accounts/callback/"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def new_home() -> Iterator[MastodonDouble]:
    with running_double() as double:
        yield double


def connect(double: MastodonDouble, influencer: InfluencerProfile) -> ConnectedAccount:
    start = services.account_connect_begin(network="mastodon", instance_url=double.url, redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    return services.account_connect_complete(
        influencer=influencer,
        network="mastodon",
        instance_url=double.url,
        code=code,
        code_verifier=start.code_verifier,
        redirect_uri=REDIRECT,
    )


# --- the address people type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("https://mastodon.social/@lena", "https://mastodon.social"),
        ("https://mastodon.social/@lena/113000000000000000", "https://mastodon.social"),
        ("mastodon.social/explore", "https://mastodon.social"),
        ("@lena@mastodon.social", "https://mastodon.social"),
        ("HTTPS://Mastodon.Social/", "https://mastodon.social"),
        ("http://127.0.0.1:8123/about", "http://127.0.0.1:8123"),
    ],
)
def test_only_scheme_and_host_make_the_server_address(typed: str, base: str) -> None:
    assert services.instance_url_normalize(raw=typed) == base


def test_the_sandbox_address_keeps_its_path(settings: Any) -> None:
    sandbox = services.sandbox_base_url()
    if not sandbox:
        pytest.skip("the sandbox does not run in these settings")
    assert services.instance_url_normalize(raw=sandbox) == sandbox
    assert services.instance_url_normalize(raw=f"{sandbox}/@someone") == sandbox


def test_a_server_that_moved_for_good_is_followed(
    signed_in: Client, mastodon_double: MastodonDouble, new_home: MastodonDouble
) -> None:
    mastodon_double.state.moved_to = new_home.url  # every path answers 301 to the new address

    response = signed_in.post(reverse("networks:connect-mastodon"), {"instance": f"{mastodon_double.url}/@lena"})

    assert response.status_code == 302
    assert response["Location"].startswith(f"{new_home.url}/oauth/authorize?")
    assert OAuthApp.objects.get().instance_url == new_home.url
    assert not any(path == "/api/v1/apps" for _m, path, _h in mastodon_double.state.requests)


def test_a_temporary_redirect_is_not_taken_as_the_new_address(
    mastodon_double: MastodonDouble, new_home: MastodonDouble
) -> None:
    mastodon_double.state.moved_to = new_home.url
    mastodon_double.state.moved_status = 302
    assert services.instance_url_resolve(url=mastodon_double.url) == mastodon_double.url
    mastodon_double.state.moved_status = 308
    assert services.instance_url_resolve(url=mastodon_double.url) == new_home.url


# --- disconnecting ---------------------------------------------------------------------------


def test_disconnecting_withdraws_the_token_at_the_server(
    mastodon_double: MastodonDouble, influencer: InfluencerProfile
) -> None:
    account = connect(mastodon_double, influencer)
    token = account.access_token

    assert services.account_disconnect(account=account) is True

    assert not ConnectedAccount.objects.filter(pk=account.pk).exists()
    assert token in mastodon_double.state.revoked
    answer = requests.get(
        f"{mastodon_double.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 401


def test_a_failed_withdrawal_still_disconnects_and_says_so(
    signed_in: Client, mastodon_double: MastodonDouble, influencer: InfluencerProfile
) -> None:
    account = connect(mastodon_double, influencer)
    mastodon_double.state.revoke_fails_with = 503

    response = signed_in.post(reverse("networks:account-disconnect", args=[account.pk]))

    assert response.status_code == 302
    assert not ConnectedAccount.objects.filter(pk=account.pk).exists()
    assert account.access_token not in mastodon_double.state.revoked
    [message] = [str(message) for message in get_messages(response.wsgi_request)]
    assert account.handle in message
    assert "could not" in message.lower()
