"""The Instagram adapter against Graph API answer bodies recorded from the real service (python-facebook's test data).

Those recordings (networks/tests/recordings/meta/, SOURCE.md) are bodies only, recorded through the Instagram
Graph API of Facebook Login; the objects and fields are the ones Instagram Login answers with. No status or
headers were kept with them: they are served with 200, and the Graph error body with 400, the status Meta
documents for ``OAuthException``. Their ids come from separate calls, so each is routed at the path the
adapter asks for (the container's status, for one, answers for another container than the one created).
Not recorded, so not proven here: an invalid token, a rate limit, "not enough viewers".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from networks.providers.exceptions import AccountAttention
from networks.providers.instagram import InstagramProvider
from networks.providers.types import MediaItem, PostDraft, PublishState, TokenSet
from networks.tests.recordings.replay import ReplayServer, body_file, running_replay

TOKENS = TokenSet(access_token="recorded-elsewhere")
USER = "17841407673135339"  # users/user_fields.json
CONTAINER = "17889455560051444"  # publish/create_photo.json
POST = "17920238422030506"  # publish/publish_container.json
MEDIA = "17846368219941692"  # the media the recorded insights belong to
IG = "meta/instagram/apidata"


class FastInstagram(InstagramProvider):
    poll_interval = 0.01
    poll_timeout = 2.0


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with running_replay() as server:
        yield server
        assert server.misses == [], "the adapter asked for something no recording answers"


@pytest.fixture
def provider(replay: ReplayServer) -> FastInstagram:
    return FastInstagram(base_url=replay.url)


def draft() -> PostDraft:
    image = MediaItem(
        content=b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9",
        filename="photo.jpg",
        content_type="image/jpeg",
        url="https://cdn.example.com/photo.jpg",
    )
    return PostDraft(text="ALBUM", media=(image,))


def test_publish_with_an_image_in_two_steps(replay: ReplayServer, provider: FastInstagram) -> None:
    replay.add("GET", "/v23.0/me", body_file(f"{IG}/users/user_fields.json"))
    replay.add("GET", f"/v23.0/{USER}/content_publishing_limit", body_file(f"{IG}/users/content_publish_limit.json"))
    replay.add("POST", f"/v23.0/{USER}/media", body_file(f"{IG}/publish/create_photo.json"))
    replay.add("GET", f"/v23.0/{CONTAINER}", body_file(f"{IG}/publish/container_info.json"))
    replay.add("POST", f"/v23.0/{USER}/media_publish", body_file(f"{IG}/publish/publish_container.json"))
    replay.add("GET", f"/v23.0/{POST}", body_file(f"{IG}/medias/media_default.json"))

    pending = provider.publish(tokens=TOKENS, draft=draft(), idempotency_key="share-1")
    assert (pending.state, pending.external_id) == (PublishState.PENDING, CONTAINER)
    [create] = replay.sent("POST", f"/v23.0/{USER}/media")
    assert b"image_url=https%3A%2F%2Fcdn.example.com%2Fphoto.jpg" in create.body
    assert create.query["access_token"] == TOKENS.access_token

    result = provider.complete_pending_publish(tokens=TOKENS, draft=draft(), pending_id=CONTAINER)

    assert result.state == PublishState.PUBLISHED
    assert result.external_id == POST
    assert result.url == "https://www.instagram.com/p/CRyZpmrjYC4/"
    assert result.published_at == datetime(2021, 7, 26, 10, 45, 20, tzinfo=UTC)  # "+0000" without a colon
    assert replay.sent("POST", f"/v23.0/{USER}/media_publish")[0].body == f"creation_id={CONTAINER}".encode()


def test_metrics_of_one_post(replay: ReplayServer, provider: FastInstagram) -> None:
    """Recorded before v22.0: ``impressions``, ``reach`` and ``saved`` as ``values[0].value``.

    The adapter asks for ``views`` (impressions' successor) and never reads ``impressions``: a recording of
    the older answer fills reach and saved only; likes, comments, shares and views stay unknown (None).
    """
    replay.add("GET", f"/v23.0/{MEDIA}/insights", body_file(f"{IG}/medias/insights.json"))

    [snapshot] = provider.fetch_metrics(tokens=TOKENS, external_ids=[MEDIA])

    assert snapshot.exists
    assert (snapshot.reach, snapshot.bookmarks) == (5, 0)
    assert (snapshot.likes, snapshot.replies, snapshot.shares, snapshot.impressions) == (None, None, None, None)
    [read] = replay.sent("GET", f"/v23.0/{MEDIA}/insights")
    assert read.query["metric"] == "reach,views,likes,comments,shares,saved,total_interactions"


def test_object_that_cannot_be_loaded(replay: ReplayServer, provider: FastInstagram) -> None:
    """Recorded: code 100 "Object does not exist, cannot be loaded due to missing permission...", no subcode.

    Without subcode 33 the adapter does not take the post for deleted (it may be a permission problem): the
    read fails with the Graph error, final (``AccountAttention``: the app or account lacks access, the post is
    not refused), and nothing is booked.
    """
    replay.add("GET", f"/v23.0/{MEDIA}/insights", body_file("meta/base/error_data.json", status=400))

    with pytest.raises(AccountAttention) as raised:
        provider.fetch_metrics(tokens=TOKENS, external_ids=[MEDIA])

    assert str(raised.value).startswith("(100/None) (#100) Object does not exist")
    assert raised.value.status == 400


def test_account(replay: ReplayServer, provider: FastInstagram) -> None:
    """The recorded user read names no ``account_type`` (Facebook Login's IG user has none): accepted."""
    replay.add("GET", "/v23.0/me", body_file(f"{IG}/users/user_fields.json"))

    account = provider.fetch_account(tokens=TOKENS)

    assert (account.external_id, account.handle) == (USER, "@facebookfordevelopers")
    assert account.display_name == "Facebook for Developers"
    assert account.followers_count == 64363
    assert account.profile_url == "https://www.instagram.com/facebookfordevelopers/"
