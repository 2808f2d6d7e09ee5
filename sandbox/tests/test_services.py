"""Sandbox services: the rules behind the API answers."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from sandbox.errors import OAuthError, RecordNotFound, SandboxPersonaError, UnprocessableEntity, ValidationFailed
from sandbox.models import SandboxAuthorizationCode, SandboxStatus
from sandbox.services import (
    AuthorizationRequest,
    access_token_exchange,
    app_register,
    authorization_code_issue,
    media_upload,
    persona_create,
    status_create,
    status_text_length,
)
from tests.factories.accounts import UserFactory
from tests.factories.sandbox import SandboxPersonaFactory

pytestmark = pytest.mark.django_db


def _image() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="JPEG")
    return SimpleUploadedFile("x.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_idempotency_key_is_kept_for_one_hour() -> None:
    persona = SandboxPersonaFactory(owner=UserFactory())
    now = timezone.now()

    first = status_create(persona=persona, text="Hello", idempotency_key="k1", now=now)
    replay = status_create(persona=persona, text="Hello", idempotency_key="k1", now=now + timedelta(minutes=59))
    later = status_create(persona=persona, text="Hello", idempotency_key="k1", now=now + timedelta(minutes=61))

    assert first.created
    assert not replay.created
    assert replay.status == first.status
    assert later.created
    assert SandboxStatus.objects.filter(persona=persona).count() == 2


def test_idempotency_keys_are_per_account() -> None:
    one, two = SandboxPersonaFactory(owner=UserFactory()), SandboxPersonaFactory(owner=UserFactory())

    status_create(persona=one, text="Same key", idempotency_key="shared")
    other = status_create(persona=two, text="Same key", idempotency_key="shared")

    assert other.created
    assert other.status.persona == two


def test_media_of_another_account_cannot_be_attached(settings: Any) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0
    owner, thief = SandboxPersonaFactory(owner=UserFactory()), SandboxPersonaFactory(owner=UserFactory())
    media = media_upload(persona=owner, upload=_image())

    with pytest.raises(RecordNotFound):
        status_create(persona=thief, text="Mine now", media_ids=[str(media.pk)])


def test_media_still_processing_cannot_be_attached(settings: Any) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 60
    persona = SandboxPersonaFactory(owner=UserFactory())
    media = media_upload(persona=persona, upload=_image())

    with pytest.raises(UnprocessableEntity, match="not finished processing"):
        status_create(persona=persona, text="Too soon", media_ids=[str(media.pk)])
    posted = status_create(persona=persona, text="Later", media_ids=[str(media.pk)], now=media.ready_at)
    assert list(posted.status.media_attachments.all()) == [media]


def test_blank_status_without_media_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="Text can't be blank"):
        status_create(persona=SandboxPersonaFactory(owner=UserFactory()), text="   ")


def test_urls_count_as_23_characters() -> None:
    assert status_text_length("see https://example.test/" + "x" * 200) == 4 + 23
    assert status_text_length("ümlaut") == 6


def test_expired_code_is_refused() -> None:
    app = app_register(name="A", redirect_uris=["https://a.test/cb"], scopes="read")
    persona = SandboxPersonaFactory(owner=UserFactory())
    request = AuthorizationRequest(app, "https://a.test/cb", ["read"], "s", "", "")
    code = authorization_code_issue(request=request, persona=persona)
    SandboxAuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OAuthError) as refused:
        access_token_exchange(
            grant_type="authorization_code",
            client_id=app.client_id,
            client_secret=app.client_secret,
            code=code,
            redirect_uri="https://a.test/cb",
            code_verifier="",
        )
    assert refused.value.error == "invalid_grant"


@pytest.mark.parametrize("handle", ["", "Has Space", "dash-ed", "x" * 31])
def test_handles_are_lowercase_words(handle: str) -> None:
    with pytest.raises(SandboxPersonaError):
        persona_create(handle=handle, display_name="X")


def test_handles_are_unique_ignoring_case() -> None:
    persona_create(handle="lena", display_name="Lena")

    with pytest.raises(SandboxPersonaError, match="taken"):
        persona_create(handle="LENA", display_name="Other")
