"""The Facebook Pages adapter against Graph API answer bodies recorded from the real service (python-facebook).

Bodies only (networks/tests/recordings/meta/, SOURCE.md): served with 200, the Graph error body with 400.
python-facebook recorded no answer to ``POST /{page}/feed`` or ``/{page}/photos`` and no post insights, so
publishing and metrics are proven only against the double (test_facebook.py); the Page list and the Page
read, which connecting rests on, and the Graph error are proven here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from networks.providers.exceptions import AccountAttention
from networks.providers.facebook import FacebookProvider
from networks.providers.types import TokenSet
from networks.tests.recordings.replay import ReplayServer, body_file, running_replay

TOKENS = TokenSet(access_token="recorded-elsewhere")


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with running_replay() as server:
        yield server
        assert server.misses == [], "the adapter asked for something no recording answers"


@pytest.fixture
def provider(replay: ReplayServer) -> FacebookProvider:
    return FacebookProvider(base_url=replay.url)


def test_pages_of_the_person(replay: ReplayServer, provider: FacebookProvider) -> None:
    """Recorded ``/me/accounts``: category lists, tasks and paging besides id, name and the Page token."""
    replay.add("GET", "/v23.0/me/accounts", body_file("meta/base/user_accounts_token.json"))

    [page] = provider.list_pages(tokens=TOKENS)

    assert (page.page_id, page.name) == ("2121008874780932", "MyLife")
    assert provider.page_tokens(page).access_token == "access_token"  # python-facebook's stand-in for the token


def test_page_account(replay: ReplayServer, provider: FacebookProvider) -> None:
    replay.add("GET", "/v23.0/me", body_file("meta/facebook/apidata/pages/single_fields_page.json"))

    account = provider.fetch_account(tokens=TOKENS)

    assert (account.external_id, account.handle, account.display_name) == ("20531316728", "@facebookapp", "Facebook")
    assert account.followers_count is None  # the recording has fan_count, not followers_count: not made up
    assert account.profile_url == "https://www.facebook.com/20531316728"


def test_post_that_cannot_be_loaded(replay: ReplayServer, provider: FacebookProvider) -> None:
    """Code 100 without subcode 33 is not "deleted": the metrics read fails, final, and nothing is booked."""
    replay.add("GET", "/v23.0/175154750010052_424924701699721", body_file("meta/base/error_data.json", status=400))

    with pytest.raises(AccountAttention) as raised:
        provider.fetch_metrics(tokens=TOKENS, external_ids=["175154750010052_424924701699721"])

    assert "pages_read_engagement" in str(raised.value)
