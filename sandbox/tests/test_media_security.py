"""Sandbox media can never become a script or a page on the app's origin (stored XSS finding).

The reported attack: a GIF/JavaScript polyglot uploaded as ``x.js`` and a GIF/HTML polyglot as
``x.html`` whose script tag loads the first; ``/sandbox/media/<id>`` answered with the type guessed
from the client's name, so ``script-src 'self'`` let it run.
"""

from __future__ import annotations

import importlib
import io
from typing import Any

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from sandbox.models import SandboxMedia, SandboxPersona
from sandbox.services import access_token_issue, app_register, status_create, status_delete
from sandbox.views import avatar
from tests.doubles.files import DANGEROUS_TYPES, HOSTILE_NAMES, gif_html_polyglot, gif_script_polyglot
from tests.factories.accounts import UserFactory
from tests.factories.sandbox import SandboxPersonaFactory

pytestmark = pytest.mark.django_db

MEDIA_CSP = "sandbox; default-src 'none'"


@pytest.fixture(autouse=True)
def _instant_processing(settings: Any) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0


@pytest.fixture
def persona() -> SandboxPersona:
    return SandboxPersonaFactory.create(handle="mallory", owner=UserFactory())


@pytest.fixture
def api(persona: SandboxPersona) -> Client:
    app = app_register(name="Evil app", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes="read write")
    issued = access_token_issue(app=app, persona=persona, scopes="read write")
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")


def _upload(api: Client, name: str, content: bytes, client_type: str = "image/gif") -> Any:
    return api.post(reverse("sandbox:media-create"), {"file": SimpleUploadedFile(name, content, client_type)})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_the_reported_attack_never_serves_a_script_or_a_page(api: Client, persona: SandboxPersona) -> None:
    script = _upload(api, "x.js", gif_script_polyglot(), "text/javascript")
    assert script.status_code == 200, script.content
    script_url = reverse("sandbox:media-file", kwargs={"media_id": int(script.json()["id"])})
    page = _upload(api, "x.html", gif_html_polyglot(script_url), "text/html")
    assert page.status_code == 200, page.content
    page_url = reverse("sandbox:media-file", kwargs={"media_id": int(page.json()["id"])})
    anyone = Client()

    before_posting = [anyone.get(script_url), anyone.get(page_url)]
    status_create(persona=persona, text="look", media_ids=[script.json()["id"], page.json()["id"]])
    after_posting = [anyone.get(script_url), anyone.get(page_url)]

    assert [r.status_code for r in before_posting] == [404, 404]
    for response in after_posting:
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert not response["Content-Type"].startswith(DANGEROUS_TYPES)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == MEDIA_CSP


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("kind", ["script", "html"])
def test_stored_name_and_type_come_from_the_content_not_the_client(api: Client, name: str, kind: str) -> None:
    content = gif_script_polyglot() if kind == "script" else gif_html_polyglot("/sandbox/media/1")

    response = _upload(api, name, content, "text/html")

    assert response.status_code == 200, response.content
    media = SandboxMedia.objects.get(pk=int(response.json()["id"]))
    stored = media.file.name.rsplit("/", 1)[-1]
    assert stored.endswith(".gif")
    assert not stored.startswith("x")
    assert name.rsplit(".", 1)[-1] not in stored
    assert media.content_type == "image/gif"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("x.gif", b"/*GIF89a*/=1;alert(1)"),
        ("x.png", b"<html><script>alert(1)</script></html>"),
        ("x.bmp", b"BM" + b"\0" * 60),
    ],
)
def test_anything_but_an_accepted_image_is_refused_with_mastodons_422(api: Client, name: str, content: bytes) -> None:
    response = _upload(api, name, content, "image/png")

    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: File content type is invalid"}
    assert not SandboxMedia.objects.exists()


def test_a_bitmap_that_pillow_reads_but_browsers_do_not_list_is_refused(api: Client) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "BMP")

    response = _upload(api, "x.bmp", out.getvalue(), "image/bmp")

    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: File content type is invalid"}


def test_unattached_media_is_private_but_its_uploader_sees_it_through_the_api(api: Client) -> None:
    uploaded = _upload(api, "photo.png", _png(), "image/png").json()

    public = Client().get(reverse("sandbox:media-file", kwargs={"media_id": int(uploaded["id"])}))
    own = api.get(reverse("sandbox:media-detail", kwargs={"media_id": uploaded["id"]}))

    assert public.status_code == 404
    assert own.status_code == 200
    assert own.json()["id"] == uploaded["id"]
    assert own.json()["meta"]["original"]["width"] == 32


@pytest.mark.parametrize(
    ("visibility", "public"), [("public", True), ("unlisted", True), ("private", False), ("direct", False)]
)
def test_only_media_of_posts_anyone_may_read_are_public(
    api: Client, persona: SandboxPersona, visibility: str, public: bool
) -> None:
    media_id = _upload(api, "photo.png", _png(), "image/png").json()["id"]
    status_create(persona=persona, text="photo", media_ids=[media_id], visibility=visibility)

    response = Client().get(reverse("sandbox:media-file", kwargs={"media_id": int(media_id)}))

    assert response.status_code == (200 if public else 404)


def test_media_of_a_deleted_post_is_gone(api: Client, persona: SandboxPersona) -> None:
    media_id = _upload(api, "photo.png", _png(), "image/png").json()["id"]
    status = status_create(persona=persona, text="photo", media_ids=[media_id]).status
    url = reverse("sandbox:media-file", kwargs={"media_id": int(media_id)})
    assert Client().get(url).status_code == 200

    status_delete(persona=persona, status=status)

    assert Client().get(url).status_code == 404


def test_served_media_carries_its_sniffed_type_a_safe_name_and_the_lockdown_headers(
    api: Client, persona: SandboxPersona
) -> None:
    media_id = _upload(api, "holiday.html", _png(), "text/html").json()["id"]
    status_create(persona=persona, text="photo", media_ids=[media_id])

    response = Client().get(reverse("sandbox:media-file", kwargs={"media_id": int(media_id)}))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="sandbox-media-{media_id}.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (32, 24)


def test_status_pages_still_show_the_attached_image(api: Client, persona: SandboxPersona) -> None:
    media_id = _upload(api, "photo.png", _png(), "image/png").json()["id"]
    status = status_create(persona=persona, text="photo", media_ids=[media_id]).status

    page = Client().get(reverse("sandbox:status-page", kwargs={"handle": "mallory", "status_id": status.pk}))

    src = reverse("sandbox:media-file", kwargs={"media_id": int(media_id)})
    assert f'src="{src}"' in page.content.decode()
    assert Client().get(src).status_code == 200


def test_media_stored_before_the_type_was_kept_is_sniffed_or_never_served(persona: SandboxPersona) -> None:
    migration = importlib.import_module("sandbox.migrations.0002_sandboxmedia_content_type")
    status = status_create(persona=persona, text="old posts").status
    now = timezone.now()
    legacy = {
        name: SandboxMedia.objects.create(
            persona=persona, status=status, file=ContentFile(content, name=name), ready_at=now, created_at=now
        )
        for name, content in [("x.html", _png()), ("y.js", b"alert(1)")]
    }

    migration.sniff_existing(apps, None)

    image = Client().get(reverse("sandbox:media-file", kwargs={"media_id": legacy["x.html"].pk}))
    script = Client().get(reverse("sandbox:media-file", kwargs={"media_id": legacy["y.js"].pk}))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == f'inline; filename="sandbox-media-{legacy["x.html"].pk}.png"'
    assert script.status_code == 404


def test_avatar_is_generated_escaped_and_locked_down(rf: Any) -> None:
    # The URL only lets [A-Za-z0-9_] through; the view escapes anyway, should that ever change.
    response = avatar(rf.get("/"), handle='<script>_"onload=alert(1)')

    body = response.content.decode()
    assert "<script" not in body
    assert '"onload' not in body
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == MEDIA_CSP
