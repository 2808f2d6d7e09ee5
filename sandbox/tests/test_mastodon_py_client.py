"""Mastodon.py, the most used Python client, unmodified, drives the sandbox over real HTTP.

App registration, the OAuth code flow through the consent page (signed in to Linkilike), verify
credentials, an image upload, a post with a content warning, reading it, favourite, reblog,
context, scheduling, delete, the Idempotency-Key after a delete, instance information and token
revocation: all through Mastodon.py's own calls against ``live_server``.

Mastodon.py 2.3 sends no PKCE parameters of its own; the PKCE test adds the challenge to the URL
Mastodon.py builds and hands Mastodon.py, through its documented ``session`` argument, a
``requests.Session`` that adds the verifier to the token request. Everything else is Mastodon.py's.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError
from PIL import Image

from sandbox.models import SandboxPersona, SandboxStatus
from sandbox.testing import consent_approve, query_of, signed_in_session
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT_URI = "https://client.example.test/callback"
SCOPES = ["read", "write"]


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 160, 90)).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


class PkceSession(requests.Session):
    """Adds ``code_verifier`` to the token request: what Mastodon.py 2.3 does not send itself."""

    def __init__(self, verifier: str) -> None:
        super().__init__()
        self.verifier = verifier

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        data = kwargs.get("data")
        if method == "POST" and str(url).endswith("/oauth/token") and isinstance(data, dict):
            kwargs["data"] = {**data, "code_verifier": self.verifier}
        return super().request(method, url, *args, **kwargs)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _logged_in(live_server: Any, *, handle: str, pkce: bool = True) -> Mastodon:
    base = f"{live_server.url}/sandbox"
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py test",
        scopes=SCOPES,
        redirect_uris=REDIRECT_URI,
        website="https://client.example.test",
        api_base_url=base,
    )
    verifier, challenge = _pkce()
    api = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        version_check_mode="created",
        session=PkceSession(verifier) if pkce else None,
    )
    url = api.auth_request_url(redirect_uris=REDIRECT_URI, scopes=SCOPES, state="xyz", allow_http=True)
    if pkce:
        url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    browser = signed_in_session(UserFactory())
    callback = consent_approve(browser, url, new_handle=handle)
    assert query_of(callback)["state"] == "xyz"
    api.log_in(code=query_of(callback)["code"], redirect_uri=REDIRECT_URI, scopes=SCOPES, allow_http=True)
    return api


def test_mastodon_py_logs_in_with_pkce_posts_reads_interacts_and_deletes(
    live_server: Any, settings: Any, recwarn: pytest.WarningsRecorder
) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0
    api = _logged_in(live_server, handle="py_client")

    # Version detection reads the v1 instance at /api/v1/instance/ (trailing slash).
    assert api.retrieve_mastodon_version() == "4.3.0"
    assert api.mastodon_api_version >= 2
    me = api.account_verify_credentials()
    assert me.username == "py_client"

    media = api.media_post(_png(), mime_type="image/png", description="A green rectangle")
    assert media.url  # a small image is processed at once (200), as on Mastodon 4
    posted = api.status_post(
        "Coffee tasting notes",
        media_ids=[media],
        spoiler_text="Food",
        sensitive=True,
        language="de",
        visibility="public",
        idempotency_key="tasting-1",
    )
    assert posted.spoiler_text == "Food"
    assert posted.sensitive is True
    assert posted.language == "de"
    assert [m.id for m in posted.media_attachments] == [media.id]
    with pytest.raises(MastodonNotFoundError):
        api.media(media)  # attached media are no longer the upload's to poll

    read = api.status(posted)
    assert (read.spoiler_text, read.sensitive, read.language) == ("Food", True, "de")

    favourited = api.status_favourite(posted)
    assert favourited.favourited is True
    assert favourited.favourites_count == 1
    assert api.status_unfavourite(posted).favourited is False

    reblog = api.status_reblog(posted)
    assert reblog.reblog.id == posted.id
    assert reblog.id != posted.id
    assert reblog.reblogged is True
    assert api.status(posted).reblogs_count == 1
    assert api.status_unreblog(posted).reblogged is False
    assert api.status(posted).reblogs_count == 0

    reply = api.status_post("Second cup", in_reply_to_id=posted)
    assert reply.in_reply_to_id == posted.id
    assert reply.in_reply_to_account_id == me.id
    context = api.status_context(posted)
    assert [s.id for s in context.descendants] == [reply.id]
    assert api.status_context(reply).ancestors[0].id == posted.id
    with pytest.raises(MastodonNotFoundError):
        api.status_post("Reply to nothing", in_reply_to_id="999999999")

    later = datetime.now(tz=UTC) + timedelta(hours=2)
    scheduled = api.status_post("Tomorrow's roast", scheduled_at=later)
    assert "params" in scheduled
    assert scheduled.params.text == "Tomorrow's roast"
    assert [s.id for s in api.scheduled_statuses()] == [scheduled.id]
    api.scheduled_status_delete(scheduled)
    assert api.scheduled_statuses() == []

    deleted = api.status_delete(posted)
    assert deleted.text == "Coffee tasting notes"
    with pytest.raises(MastodonNotFoundError):
        api.status(posted)
    # The key outlives the post for its hour: reusing it finds the deleted post, as on Mastodon.
    with pytest.raises(MastodonNotFoundError):
        api.status_post("Coffee tasting notes", idempotency_key="tasting-1")
    assert SandboxStatus.objects.filter(persona__handle="py_client").count() == 1  # the reply

    v1 = api.instance_v1()
    assert v1.uri
    assert isinstance(v1.registrations, bool)
    assert "short_description" in v1
    assert "stats" in v1
    assert "domain" not in v1
    v2 = api.instance()
    assert v2.domain == v1.uri
    assert v2.api_versions["mastodon"] >= 2

    api.revoke_access_token(allow_http=True)
    with pytest.raises(MastodonUnauthorizedError):
        api.account_verify_credentials()
    assert not [w for w in recwarn if "mastodon" in str(w.filename).lower()], [str(w.message) for w in recwarn]


def test_mastodon_py_logs_in_without_pkce_as_it_does_by_itself(live_server: Any) -> None:
    api = _logged_in(live_server, handle="plain_flow", pkce=False)

    assert api.account_verify_credentials().username == "plain_flow"
    assert SandboxPersona.objects.filter(handle="plain_flow").exists()


def test_a_challenge_without_its_verifier_does_not_log_in(live_server: Any) -> None:
    base = f"{live_server.url}/sandbox"
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py test", scopes=SCOPES, redirect_uris=REDIRECT_URI, api_base_url=base
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    _verifier, challenge = _pkce()
    url = api.auth_request_url(redirect_uris=REDIRECT_URI, scopes=SCOPES, allow_http=True)
    url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    callback = consent_approve(signed_in_session(UserFactory()), url, new_handle="no_verifier")

    with warnings.catch_warnings(), pytest.raises((MastodonAPIError, ValueError)):
        api.log_in(code=query_of(callback)["code"], redirect_uri=REDIRECT_URI, scopes=SCOPES, allow_http=True)
