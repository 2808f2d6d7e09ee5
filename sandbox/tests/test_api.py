"""The sandbox's Mastodon client API over real HTTP (live_server + requests)."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from PIL import Image

from sandbox.models import SandboxStatus
from sandbox.testing import consent_approve, query_of, signed_in_session
from tests.factories.accounts import UserFactory

REDIRECT_URI = "https://app.example.test/callback"
SCOPES = "read write:statuses write:media profile"

pytestmark = pytest.mark.django_db(transaction=True)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Connected:
    base: str
    app: dict[str, Any]
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _register(base: str) -> dict[str, Any]:
    response = requests.post(
        f"{base}/api/v1/apps",
        data={"client_name": "Linkilike", "redirect_uris": REDIRECT_URI, "scopes": SCOPES, "website": "https://x.test"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _authorize_url(base: str, app: dict[str, Any], challenge: str, **overrides: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    } | overrides
    return f"{base}/oauth/authorize?{urlencode(params)}"


def _exchange(base: str, app: dict[str, Any], code: str, verifier: str, **overrides: str) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    } | overrides
    return requests.post(f"{base}/oauth/token", data=data, timeout=10)


def _connect(live_server: Any, handle: str = "lena_test") -> Connected:
    base = f"{live_server.url}/sandbox"
    app = _register(base)
    verifier, challenge = _pkce()
    session = signed_in_session(UserFactory())
    location = consent_approve(session, _authorize_url(base, app, challenge), new_handle=handle)
    token = _exchange(base, app, query_of(location)["code"], verifier)
    assert token.status_code == 200, token.text
    return Connected(base=base, app=app, token=token.json()["access_token"])


def test_app_registration_returns_client_credentials(live_server: Any) -> None:
    app = _register(f"{live_server.url}/sandbox")

    assert app["name"] == "Linkilike"
    assert app["redirect_uri"] == REDIRECT_URI
    assert app["redirect_uris"] == [REDIRECT_URI]
    assert app["scopes"] == SCOPES.split()
    assert app["client_id"]
    assert app["client_secret"]
    assert app["id"].isdigit()
    assert "vapid_key" in app


def test_app_registration_without_name_is_refused(live_server: Any) -> None:
    response = requests.post(f"{live_server.url}/sandbox/api/v1/apps", data={"redirect_uris": REDIRECT_URI}, timeout=10)

    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: Application name can't be blank"}


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "/relative/callback", "https://app.example.test/cb#frag"])
def test_app_registration_refuses_unusable_redirect_uris(live_server: Any, uri: str) -> None:
    response = requests.post(
        f"{live_server.url}/sandbox/api/v1/apps", data={"client_name": "X", "redirect_uris": uri}, timeout=10
    )

    assert response.status_code == 422
    assert response.json()["error"].startswith("Validation failed: Redirect URI")


def test_full_oauth_code_flow_with_pkce_gives_a_working_token(live_server: Any) -> None:
    base = f"{live_server.url}/sandbox"
    app = _register(base)
    verifier, challenge = _pkce()
    session = signed_in_session(UserFactory())

    location = consent_approve(session, _authorize_url(base, app, challenge), new_handle="new_person")

    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "state-123"
    token = _exchange(base, app, params["code"], verifier)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == SCOPES
    assert isinstance(body["created_at"], int)
    me = requests.get(
        f"{base}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200
    account = me.json()
    assert account["username"] == account["acct"] == "new_person"
    assert account["url"] == f"{base}/@new_person"
    for field in (
        "id",
        "display_name",
        "followers_count",
        "following_count",
        "statuses_count",
        "avatar",
        "note",
        "created_at",
    ):
        assert field in account
    # The code is single use.
    assert _exchange(base, app, params["code"], verifier).json()["error"] == "invalid_grant"


def test_wrong_verifier_and_wrong_redirect_are_refused(live_server: Any) -> None:
    base = f"{live_server.url}/sandbox"
    app = _register(base)
    verifier, challenge = _pkce()
    session = signed_in_session(UserFactory())
    code = query_of(consent_approve(session, _authorize_url(base, app, challenge), new_handle="someone"))["code"]

    wrong_verifier = _exchange(base, app, code, secrets.token_urlsafe(48))
    wrong_redirect = _exchange(base, app, code, verifier, redirect_uri="https://evil.example.test/callback")
    wrong_secret = _exchange(base, app, code, verifier, client_secret="nope")

    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"
    assert wrong_redirect.status_code == 400
    assert wrong_redirect.json()["error"] == "invalid_grant"
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    # None of the failures burnt the code: the right request still works.
    assert _exchange(base, app, code, verifier).status_code == 200


def test_unregistered_redirect_uri_is_not_redirected_to(live_server: Any) -> None:
    base = f"{live_server.url}/sandbox"
    app = _register(base)
    _verifier, challenge = _pkce()
    session = signed_in_session(UserFactory())

    page = session.get(
        _authorize_url(base, app, challenge, redirect_uri="https://evil.example.test/callback"),
        allow_redirects=False,
        timeout=10,
    )

    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "does not match" in page.text


def test_media_upload_is_processed_then_ready(live_server: Any, settings: Any) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0.6
    api = _connect(live_server)

    upload = requests.post(
        f"{api.base}/api/v2/media",
        headers=api.auth,
        files={"file": ("photo.png", _png(), "image/png")},
        data={"description": "A red rectangle"},
        timeout=10,
    )
    assert upload.status_code == 202
    assert upload.json()["url"] is None
    media_id = upload.json()["id"]
    processing = requests.get(f"{api.base}/api/v1/media/{media_id}", headers=api.auth, timeout=10)
    assert processing.status_code == 206
    time.sleep(0.7)
    ready = requests.get(f"{api.base}/api/v1/media/{media_id}", headers=api.auth, timeout=10)

    assert ready.status_code == 200
    body = ready.json()
    assert body["type"] == "image"
    assert body["description"] == "A red rectangle"
    assert body["meta"]["original"]["width"] == 64
    # The file is public once posted (else anyone could host any file here), as the uploader's post shows it.
    assert requests.get(body["url"], timeout=10).status_code == 404
    posted = requests.post(
        f"{api.base}/api/v1/statuses", headers=api.auth, data={"status": "Red", "media_ids[]": [media_id]}, timeout=10
    )
    assert posted.status_code == 200, posted.text
    image = requests.get(body["url"], timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (64, 48)


def test_media_that_is_not_an_image_is_refused(live_server: Any) -> None:
    api = _connect(live_server)

    response = requests.post(
        f"{api.base}/api/v2/media",
        headers=api.auth,
        files={"file": ("photo.png", b"<html>not an image</html>", "image/png")},
        timeout=10,
    )

    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: File content type is invalid"}


def test_status_with_image_and_idempotency_key_is_created_once(live_server: Any, settings: Any) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0
    api = _connect(live_server, handle="poster")
    media_id = requests.post(
        f"{api.base}/api/v2/media", headers=api.auth, files={"file": ("p.png", _png(), "image/png")}, timeout=10
    ).json()["id"]
    payload = {
        "status": "Fresh beans from the roastery https://shop.example.test/beans #ad",
        "media_ids[]": [media_id],
        "visibility": "public",
    }
    headers = api.auth | {"Idempotency-Key": "share-42-attempt"}

    first = requests.post(f"{api.base}/api/v1/statuses", headers=headers, data=payload, timeout=10)
    again = requests.post(f"{api.base}/api/v1/statuses", headers=headers, data=payload, timeout=10)

    assert first.status_code == again.status_code == 200
    status = first.json()
    assert again.json()["id"] == status["id"]
    assert SandboxStatus.objects.filter(persona__handle="poster").count() == 1
    assert isinstance(status["id"], str)
    assert status["url"] == f"{api.base}/@poster/{status['id']}"
    assert status["visibility"] == "public"
    assert status["account"]["username"] == "poster"
    assert [m["id"] for m in status["media_attachments"]] == [media_id]
    assert 'href="https://shop.example.test/beans"' in status["content"]
    for count in ("favourites_count", "reblogs_count", "replies_count", "quotes_count"):
        assert status[count] == 0
    page = requests.get(status["url"], timeout=10)
    assert page.status_code == 200
    assert "Fresh beans from the roastery" in page.text
    # A different key is a different post.
    other = requests.post(
        f"{api.base}/api/v1/statuses",
        headers=api.auth | {"Idempotency-Key": "other"},
        data={"status": "Second"},
        timeout=10,
    )
    assert other.json()["id"] != status["id"]


def test_status_over_500_characters_is_refused(live_server: Any) -> None:
    api = _connect(live_server)

    too_long = requests.post(f"{api.base}/api/v1/statuses", headers=api.auth, data={"status": "x" * 501}, timeout=10)
    # A URL counts as 23 characters however long it is.
    long_url = "https://example.test/" + "a" * 600
    fits = requests.post(
        f"{api.base}/api/v1/statuses", headers=api.auth, data={"status": "y" * 470 + " " + long_url}, timeout=10
    )

    assert too_long.status_code == 422
    assert too_long.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}
    assert fits.status_code == 200


def test_status_lookup_and_delete(live_server: Any) -> None:
    api = _connect(live_server)
    status_id = requests.post(
        f"{api.base}/api/v1/statuses", headers=api.auth, data={"status": "Hello"}, timeout=10
    ).json()["id"]

    found = requests.get(f"{api.base}/api/v1/statuses/{status_id}", headers=api.auth, timeout=10)
    deleted = requests.delete(f"{api.base}/api/v1/statuses/{status_id}", headers=api.auth, timeout=10)
    gone = requests.get(f"{api.base}/api/v1/statuses/{status_id}", headers=api.auth, timeout=10)

    assert found.status_code == 200
    assert found.json()["favourites_count"] == 0
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "Hello"
    assert gone.status_code == 404
    assert gone.json() == {"error": "Record not found"}


def test_revoked_token_answers_401(live_server: Any) -> None:
    api = _connect(live_server)
    assert (
        requests.get(f"{api.base}/api/v1/accounts/verify_credentials", headers=api.auth, timeout=10).status_code == 200
    )

    revoke = requests.post(
        f"{api.base}/oauth/revoke",
        data={"client_id": api.app["client_id"], "client_secret": api.app["client_secret"], "token": api.token},
        timeout=10,
    )
    after = requests.get(f"{api.base}/api/v1/accounts/verify_credentials", headers=api.auth, timeout=10)
    post = requests.post(f"{api.base}/api/v1/statuses", headers=api.auth, data={"status": "still there?"}, timeout=10)

    assert revoke.status_code == 200
    assert after.status_code == 401
    assert after.json() == {"error": "The access token is invalid"}
    assert post.status_code == 401
    nobody = requests.get(f"{api.base}/api/v1/accounts/verify_credentials", timeout=10)
    assert nobody.status_code == 401


def test_rate_limit_answers_429_with_iso_reset(live_server: Any, settings: Any) -> None:
    api = _connect(live_server)
    settings.SANDBOX_RATE_LIMIT = 3
    url = f"{api.base}/api/v1/accounts/verify_credentials"

    answers = [requests.get(url, headers=api.auth, timeout=10) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[3].json() == {"error": "Too many requests"}
    reset = datetime.fromisoformat(answers[3].headers["X-RateLimit-Reset"])
    now = datetime.now(tz=UTC)
    assert now < reset <= now + timedelta(seconds=settings.SANDBOX_RATE_LIMIT_PERIOD_SECONDS + 1)


def test_media_uploads_have_their_own_stricter_limit(live_server: Any, settings: Any) -> None:
    api = _connect(live_server)
    settings.SANDBOX_MEDIA_RATE_LIMIT = 2

    answers = [
        requests.post(
            f"{api.base}/api/v2/media", headers=api.auth, files={"file": ("p.png", _png(), "image/png")}, timeout=10
        )
        for _ in range(3)
    ]
    other_call = requests.get(f"{api.base}/api/v1/accounts/verify_credentials", headers=api.auth, timeout=10)

    assert [a.status_code for a in answers[:2]] in ([202, 202], [200, 200])
    assert answers[2].status_code == 429
    assert answers[2].headers["X-RateLimit-Limit"] == "2"
    assert other_call.status_code == 200


def test_token_scopes_are_enforced(live_server: Any) -> None:
    base = f"{live_server.url}/sandbox"
    app = _register(base)
    verifier, challenge = _pkce()
    session = signed_in_session(UserFactory())
    location = consent_approve(session, _authorize_url(base, app, challenge, scope="profile"), new_handle="reader")
    token = _exchange(base, app, query_of(location)["code"], verifier).json()["access_token"]

    response = requests.post(
        f"{base}/api/v1/statuses", headers={"Authorization": f"Bearer {token}"}, data={"status": "hi"}, timeout=10
    )

    assert response.status_code == 403
    assert response.json() == {"error": "This action is outside the authorized scopes"}
