"""The X adapter against answers recorded from the real X (then Twitter) API v2 (tweepy's test suite).

The recordings (networks/tests/recordings/x/, SOURCE.md) are served by the replay double over real HTTP,
gzip-encoded bodies and all, so the adapter's session, error mapping and parsing run as in production.
Not recorded there, so not proven here: the media upload (tweepy recorded only the v1.1 upload), a
missing post, an invalid token and a 429.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from networks.providers.types import PostDraft, PublishState, RateLimitInfo, TokenSet
from networks.providers.x import XProvider
from networks.tests.recordings.replay import ReplayServer, interaction, running_replay

ORIGIN = "https://api.twitter.com"  # where the recordings were made
TOKENS = TokenSet(access_token="recorded-with-tweepy-credentials")
CREATE_DELETE = "x/test_client_create_and_delete_tweet.yaml"
LOOKUP = "x/test_client_get_tweets.yaml"
ME = "x/test_client_get_me.yaml"


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with running_replay(ORIGIN) as server:
        yield server
        assert server.misses == [], "the adapter asked for something no recording answers"


@pytest.fixture
def provider(replay: ReplayServer) -> XProvider:
    return XProvider(base_url=replay.url)


def test_publish(replay: ReplayServer, provider: XProvider) -> None:
    """Recorded: 201 ``{"data": {"id", "text"}}``, gzip-encoded, with ``x-rate-limit-*`` headers."""
    recorded = interaction(CREATE_DELETE, 0, "POST", "/2/tweets")
    replay.replay(recorded)

    result = provider.publish(tokens=TOKENS, draft=PostDraft(text="Test Tweet"), idempotency_key="share-1")

    assert result.state == PublishState.PUBLISHED
    assert result.external_id == "1456012973835788293"
    assert result.url == "https://x.com/i/web/status/1456012973835788293"
    # The time read from the snowflake id agrees with the Date header X sent with the answer (whole seconds).
    answered_at = parsedate_to_datetime(str(recorded.response.header("date")))
    assert result.published_at is not None
    assert abs(answered_at - result.published_at) < timedelta(seconds=1)
    assert replay.sent("POST", "/2/tweets")[0].body == b'{"text": "Test Tweet"}'
    assert provider.last_rate_limit == RateLimitInfo(
        limit=200, remaining=199, reset_at=datetime.fromtimestamp(1635976418, tz=UTC)
    )


def test_delete(replay: ReplayServer, provider: XProvider) -> None:
    replay.replay(interaction(CREATE_DELETE, 1, "DELETE", "/2/tweets/1456012973835788293"))

    provider.delete(tokens=TOKENS, external_id="1456012973835788293")

    assert provider.last_rate_limit is not None
    assert (provider.last_rate_limit.limit, provider.last_rate_limit.remaining) == (50, 49)


def test_metrics_batch_answered_without_counts(replay: ReplayServer, provider: XProvider) -> None:
    """A real ``GET /2/tweets?ids=a,b`` answer whose posts carry no ``public_metrics``.

    tweepy recorded the lookup without ``tweet.fields``; the adapter asks for ``public_metrics`` and gets
    this answer back (the replay matches on ``ids``). Both posts are there, their counts are not: each
    snapshot says so (``unknown_reason``), none is booked as zeros, none is taken for deleted.
    """
    replay.replay(interaction(LOOKUP, 0, "GET", "/2/tweets"), query_keys=("ids",))
    ids = ["1293593516040269825", "1293595870563381249"]

    snapshots = provider.fetch_metrics(tokens=TOKENS, external_ids=ids)

    assert [snapshot.external_id for snapshot in snapshots] == ids
    for snapshot in snapshots:
        assert snapshot.exists
        assert not snapshot.counts_known
        assert "public_metrics" in snapshot.unknown_reason
        assert (snapshot.likes, snapshot.shares, snapshot.impressions, snapshot.clicks) == (None, None, None, None)
    [lookup] = replay.sent("GET", "/2/tweets")
    # Posts from 2020 are older than 30 days: one request, public metrics only.
    assert lookup.query == {"ids": ",".join(ids), "tweet.fields": "public_metrics"}
    assert provider.last_rate_limit is not None
    assert provider.last_rate_limit.remaining == 298


def test_account(replay: ReplayServer, provider: XProvider) -> None:
    replay.replay(interaction(ME, 0, "GET", "/2/users/me"))

    account = provider.fetch_account(tokens=TOKENS)

    assert (account.external_id, account.handle, account.display_name) == (
        "1072250532645998596",
        "@TweepyDev",
        "Tweepy Testing",
    )
    assert account.profile_url == "https://x.com/TweepyDev"
    assert account.followers_count is None  # recorded without user.fields: no public_metrics, not zero
