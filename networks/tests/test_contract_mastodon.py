"""The Mastodon adapter against answers recorded from a real Mastodon server (4.6.4, Mastodon.py's test suite).

The recordings (networks/tests/recordings/mastodon/, SOURCE.md) are served by the replay double over real
HTTP, so the adapter's session, error mapping and parsing run exactly as in production. No 429 was
recorded: rate limits are proven only as far as the recorded ``X-RateLimit-*`` headers go.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from networks.providers.exceptions import AuthRevoked, ContentRejected
from networks.providers.mastodon import MastodonProvider
from networks.providers.types import MediaItem, PostDraft, RateLimitInfo, TokenSet
from networks.tests.recordings.replay import ReplayServer, interaction, running_replay

ORIGIN = "http://localhost:3000"  # where the recordings were made
#: The token the recordings were made with (a placeholder Mastodon.py's suite puts in place of the real one).
TOKENS = TokenSet(access_token="__MASTODON_PY_TEST_ACCESS_TOKEN")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"
MEDIA = "mastodon/test_status_delete_media.yaml"
VIDEO = "mastodon/test_media_post_True.yaml"
STATUS = "mastodon/test_status.yaml"
MISSING = "mastodon/test_status_missing.yaml"
REVOKED = "mastodon/test_zzz_revoke.yaml"
ACCOUNT = "mastodon/test_verify_credentials.yaml"


class FastMastodon(MastodonProvider):
    media_poll_interval = 0.01


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with running_replay(ORIGIN) as server:
        yield server
        # No instance document was recorded: unanswered, the adapter leaves the limits to the server (reading
        # them is proven against the double, test_mastodon_adapter.py).
        misses = [seen for seen in server.misses if seen.path != "/api/v2/instance"]
        assert misses == [], "the adapter asked for something no recording answers"


@pytest.fixture
def provider(replay: ReplayServer) -> FastMastodon:
    return FastMastodon(base_url=replay.url)


def image_draft(text: str = "Status with media") -> PostDraft:
    return PostDraft(text=text, media=(MediaItem(content=JPEG, filename="image.jpg", content_type="image/jpeg"),))


def test_publish_with_an_image(replay: ReplayServer, provider: FastMastodon) -> None:
    replay.replay(interaction(MEDIA, 1, "POST", "/api/v2/media"))
    replay.replay(interaction(MEDIA, 2, "POST", "/api/v1/statuses"))

    result = provider.publish(tokens=TOKENS, draft=image_draft(), idempotency_key="share-1")

    assert result.external_id == "117020606035908211"
    assert result.url == "http://localhost:3000/@mastodonpy_test/117020606035908211"
    assert result.published_at == datetime(2026, 8, 1, 13, 59, 3, 468000, tzinfo=UTC)
    upload, create = replay.sent("POST", "/api/v2/media")[0], replay.sent("POST", "/api/v1/statuses")[0]
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert upload.headers["Authorization"] == f"Bearer {TOKENS.access_token}"
    # The recorded answer carried an image URL at once (200): no polling.
    assert replay.sent("GET", "/api/v1/media/117020606032533890") == []
    assert create.headers["Idempotency-Key"] == "share-1"
    assert b'"media_ids": ["117020606032533890"]' in create.body
    # X-RateLimit-* of the recorded status answer (an ISO-8601 reset with microseconds).
    assert provider.last_rate_limit == RateLimitInfo(
        limit=300, remaining=194, reset_at=datetime(2026, 8, 1, 15, 0, 0, 511058, tzinfo=UTC)
    )


def test_publish_with_a_video_waits_for_processing(replay: ReplayServer, provider: FastMastodon) -> None:
    """The recorded upload answered 202 with ``url: null``; the adapter polls until the media has its URL."""
    replay.replay(interaction(VIDEO, 0, "POST", "/api/v2/media"))
    replay.replay(interaction(VIDEO, 1, "GET", "/api/v1/media/117020575776246986"))
    replay.replay(interaction(VIDEO, 2, "POST", "/api/v1/statuses"))
    video = MediaItem(content=b"\x00" * 32, filename="video.mp4", content_type="video/mp4", description="me when a cat")

    result = provider.publish(
        tokens=TOKENS, draft=PostDraft(text="LOL check this out", media=(video,)), idempotency_key="share-2"
    )

    assert result.external_id == "117020576440066974"
    assert len(replay.sent("GET", "/api/v1/media/117020575776246986")) == 1
    assert b'"media_ids": ["117020575776246986"]' in replay.sent("POST", "/api/v1/statuses")[0].body


def test_media_already_attached_is_rejected_for_good(replay: ReplayServer, provider: FastMastodon) -> None:
    """Recorded: a status naming media that is already attached answers 422 (in the account's language)."""
    replay.replay(interaction(MEDIA, 1, "POST", "/api/v2/media"))
    replay.replay(interaction(MEDIA, 6, "POST", "/api/v1/statuses"))

    with pytest.raises(ContentRejected) as raised:
        provider.publish(tokens=TOKENS, draft=image_draft(), idempotency_key="share-3")

    assert raised.value.status == 422
    assert "117020606032533890" in str(raised.value)
    assert not raised.value.retryable


def test_metrics_of_one_post(replay: ReplayServer, provider: FastMastodon) -> None:
    replay.replay(interaction(STATUS, 1, "GET", "/api/v1/statuses/117020583223442465"))

    [snapshot] = provider.fetch_metrics(tokens=TOKENS, external_ids=["117020583223442465"])

    assert snapshot.exists
    assert snapshot.counts_known
    assert (snapshot.likes, snapshot.shares, snapshot.replies, snapshot.quotes) == (0, 0, 0, 0)
    assert (snapshot.reach, snapshot.impressions, snapshot.clicks) == (None, None, None)
    # favourited / reblogged of the recorded status are the reading account's own (false).
    assert (snapshot.own_likes, snapshot.own_shares, snapshot.own_replies, snapshot.own_quotes) == (0, 0, 0, 0)
    # No replies and no quotes recorded: /context and /quotes are not asked.
    assert [seen.path for seen in replay.requests] == ["/api/v1/statuses/117020583223442465"]


def test_metrics_batch_with_a_missing_post(replay: ReplayServer, provider: FastMastodon) -> None:
    """One status read per post; the recorded 404 ``{"error":"Not Found"}`` means the post is gone."""
    replay.replay(interaction(STATUS, 1, "GET", "/api/v1/statuses/117020583223442465"))
    replay.replay(interaction(MISSING, 0, "GET", "/api/v1/statuses/0"))

    present, gone = provider.fetch_metrics(tokens=TOKENS, external_ids=["117020583223442465", "0"])

    assert (present.external_id, present.exists, present.likes) == ("117020583223442465", True, 0)
    assert (gone.external_id, gone.exists, gone.likes) == ("0", False, None)
    assert provider.last_rate_limit is not None
    assert provider.last_rate_limit.remaining == 299


def test_delete_and_delete_of_a_post_already_gone(replay: ReplayServer, provider: FastMastodon) -> None:
    replay.replay(interaction(STATUS, 2, "DELETE", "/api/v1/statuses/117020583223442465"))
    replay.replay(interaction(MEDIA, 7, "DELETE", "/api/v1/statuses/117020606379845323"))  # 404 Record not found

    provider.delete(tokens=TOKENS, external_id="117020583223442465")
    provider.delete(tokens=TOKENS, external_id="117020606379845323")

    assert len(replay.requests) == 2


@pytest.mark.parametrize("index", [1, 2], ids=["invalid", "revoked-in-japanese"])
def test_revoked_token_on_publish(replay: ReplayServer, provider: FastMastodon, index: int) -> None:
    """Recorded after ``/oauth/revoke``: 401 ``{"error": ...}``, once in English and once in Japanese."""
    replay.replay(interaction(REVOKED, index, "POST", "/api/v1/statuses"))

    with pytest.raises(AuthRevoked) as raised:
        provider.publish(tokens=TOKENS, draft=PostDraft(text="illegal access detected"), idempotency_key="share-4")

    assert raised.value.status == 401
    assert not raised.value.retryable


def test_account(replay: ReplayServer, provider: FastMastodon) -> None:
    replay.replay(interaction(ACCOUNT, 0, "GET", "/api/v1/accounts/verify_credentials"))

    account = provider.fetch_account(tokens=TOKENS)

    assert account.external_id == "117020457910412882"
    assert account.handle == f"@mastodonpy_test@{replay.url.removeprefix('http://')}"
    assert account.display_name == "mastodonpy_test"  # the recorded display_name is empty
    assert account.profile_url == "http://localhost:3000/@mastodonpy_test"
    assert account.followers_count == 0
