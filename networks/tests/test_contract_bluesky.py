"""The Bluesky adapter against an answer recorded from the real Bluesky network (the atproto SDK's test data).

Bluesky's publish, metrics, delete and takedown are proven against a real local AT Protocol network (PDS,
AppView, PLC: test_bluesky_devenv.py, test_bluesky_pipeline.py). What that network cannot show is an answer
of the production PDS; the one recorded here is ``com.atproto.repo.getRecord`` of a post on bsky.social,
the read that tells a repeated publish its post already exists (networks/tests/recordings/bluesky/SOURCE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from networks.providers.bluesky import BlueskyProvider, _record_time
from networks.tests.recordings.replay import ReplayServer, body_file, running_replay

POST = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3k2yihcrp6f2c"


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with running_replay() as server:
        yield server
        assert server.misses == [], "the adapter asked for something no recording answers"


def test_record_of_a_post_on_the_production_pds(replay: ReplayServer) -> None:
    replay.add(
        "GET",
        "/xrpc/com.atproto.repo.getRecord",
        body_file("bluesky/post_record.json"),
        query={"collection": "app.bsky.feed.post", "rkey": "3k2yihcrp6f2c"},
    )
    provider = BlueskyProvider(base_url=replay.url, appview_url=replay.url, web_url="https://bsky.app")

    record = provider.get_record(external_id=POST)

    assert record is not None
    assert record["uri"] == POST
    assert record["value"]["text"] == "new text114"
    # The time a repeated publish reports for the post it found: createdAt with microseconds and an offset.
    assert _record_time(record) == datetime(2024, 2, 22, 19, 58, 13, 903293, tzinfo=UTC)
    [read] = replay.requests
    assert read.query["repo"] == "did:plc:kvwvcn5iqfooopmyzvb4qzba"
