"""The shared HTTP client: identifies Linkilike, times out, and keeps secrets out of logs."""

from __future__ import annotations

import logging

import pytest
import requests

from networks.providers.http import HttpClient
from networks.tests.mastodon_double import MastodonDouble


def test_user_agent_and_redacted_logs(mastodon_double: MastodonDouble, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="networks.http")
    client = HttpClient()
    client.request("GET", f"{mastodon_double.url}/api/v1/statuses/1?access_token=hush-hush-123")
    _method, _path, headers = mastodon_double.state.requests[-1]
    assert headers["User-Agent"].startswith("Linkilike/")
    messages = [record.getMessage() for record in caplog.records]
    assert any("/api/v1/statuses/1" in message for message in messages)
    assert not any("hush-hush-123" in message for message in messages)


def test_requests_time_out(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.read_delay = 0.6
    mastodon_double.state.tokens["t"] = "1"
    client = HttpClient(timeout=(1.0, 0.2))
    with pytest.raises(requests.Timeout):
        client.request("GET", f"{mastodon_double.url}/api/v1/statuses/1", headers={"Authorization": "Bearer t"})
