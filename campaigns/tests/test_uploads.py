"""Upload validation: real type sniffed, caps enforced, nothing half-saved on refusal."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaigns import services, uploads
from campaigns.errors import UploadRejected
from campaigns.models import CaptionVariant, ContentPiece
from tests.factories.campaigns import CampaignFactory, png_bytes, png_upload

pytestmark = pytest.mark.django_db

VARIANTS = [services.VariantInput(text="Fresh roast.", language="en")]


def _files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _create(campaign: Any, upload: SimpleUploadedFile) -> ContentPiece:
    return services.content_create(
        campaign=campaign, title="Launch", target_url="https://shop.example/", variants=VARIANTS, media=upload
    )


def _assert_refused(upload: SimpleUploadedFile, message: str) -> None:
    campaign = CampaignFactory()
    with pytest.raises(UploadRejected, match=message):
        _create(campaign, upload)
    assert ContentPiece.objects.count() == 0
    assert CaptionVariant.objects.count() == 0
    assert _files() == []


def test_valid_png_is_stored_under_a_random_name_with_a_thumbnail() -> None:
    campaign = CampaignFactory()

    piece = _create(campaign, png_upload("../../evil name.png", size=(1200, 800)))

    assert piece.media_kind == "image"
    assert piece.media.name.endswith(".png")
    assert "evil" not in piece.media.name
    assert piece.thumbnail.name.endswith("_thumb.jpg")
    with Image.open(piece.thumbnail.path) as thumb:
        assert max(thumb.size) <= 480
    assert len(_files()) == 2


def test_renamed_html_is_refused() -> None:
    html = SimpleUploadedFile("photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "image/jpeg")
    _assert_refused(html, "web page or SVG")


def test_renamed_svg_is_refused() -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    _assert_refused(SimpleUploadedFile("photo.png", svg, "image/png"), "web page or SVG")


def test_oversized_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_IMAGE_BYTES", 1000)
    _assert_refused(png_upload(size=(400, 400)), r"images can be at most")


def test_image_over_8_mb_is_refused_by_default() -> None:
    big = SimpleUploadedFile("big.png", png_bytes() + b"\0" * (8 * 1024 * 1024), "image/png")
    _assert_refused(big, r"at most 8 MB")


def test_decompression_bomb_is_refused() -> None:
    # A tiny file that claims 20,000 x 20,000 pixels (400 megapixels).
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    assert len(out.getvalue()) < 1_000_000
    _assert_refused(SimpleUploadedFile("bomb.png", out.getvalue(), "image/png"), "too many pixels")


def test_truncated_image_is_refused() -> None:
    out = io.BytesIO()
    Image.effect_noise((400, 400), 64).convert("RGB").save(out, "JPEG", quality=95)
    data = out.getvalue()
    _assert_refused(SimpleUploadedFile("cut.jpg", data[: len(data) // 2], "image/jpeg"), "damaged")


def test_random_bytes_are_refused() -> None:
    _assert_refused(SimpleUploadedFile("clip.mp4", b"\x00\x01garbage" * 100, "video/mp4"), "not an image or video")


def test_mp4_is_recognised_by_its_magic_bytes() -> None:
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000
    campaign = CampaignFactory()

    piece = _create(campaign, SimpleUploadedFile("clip.bin", mp4, "application/octet-stream"))

    assert piece.media_kind == "video"
    assert piece.media.name.endswith(".mp4")
    assert not piece.thumbnail


def test_replacing_media_removes_the_old_files(django_capture_on_commit_callbacks: Any) -> None:
    campaign = CampaignFactory()
    piece = _create(campaign, png_upload())
    old = {p.name for p in _files()}

    with django_capture_on_commit_callbacks(execute=True):
        services.content_update(
            content=piece, title="Launch", target_url="https://shop.example/", variants=VARIANTS, media=png_upload()
        )

    now = {p.name for p in _files()}
    assert len(now) == 2
    assert not (old & now)


def test_bad_replacement_keeps_the_old_media() -> None:
    campaign = CampaignFactory()
    piece = _create(campaign, png_upload())
    before = sorted(p.name for p in _files())

    with pytest.raises(UploadRejected):
        services.content_update(
            content=piece,
            title="Changed",
            target_url="https://shop.example/",
            variants=VARIANTS,
            media=SimpleUploadedFile("x.png", b"<svg></svg>", "image/png"),
        )

    piece.refresh_from_db()
    assert piece.title == "Launch"
    assert sorted(p.name for p in _files()) == before


def test_failure_after_the_file_was_written_leaves_no_file_and_no_row(monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = CampaignFactory()

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(CaptionVariant.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        _create(campaign, png_upload())

    assert ContentPiece.objects.count() == 0
    assert _files() == []


def test_oversized_video_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_VIDEO_BYTES", 1000)
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000
    _assert_refused(SimpleUploadedFile("clip.mp4", mp4, "video/mp4"), r"videos can be at most")


@pytest.mark.parametrize("name", ["page.html", "drawing.svg", "noextension"])
def test_the_stored_name_takes_the_sniffed_type_never_the_uploaded_one(name: str) -> None:
    """A real PNG called page.html is kept as .png, so it is never served as a web page or drawing."""
    piece = _create(CampaignFactory(), SimpleUploadedFile(name, png_bytes(), "text/html"))

    assert piece.media.name.endswith(".png")
    assert not piece.media.name.endswith((".html", ".svg"))


def test_svg_uploaded_through_the_api_is_refused_and_nothing_is_stored() -> None:
    from rest_framework.test import APIClient

    from tests.factories.brands import MembershipFactory
    from tests.factories.campaigns import CaptionVariantFactory, ContentPieceFactory

    membership = MembershipFactory()
    piece = ContentPieceFactory(campaign__brand=membership.brand)
    CaptionVariantFactory(content=piece)
    client = APIClient()
    client.force_authenticate(membership.user)
    svg = SimpleUploadedFile("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/png")

    response = client.post(
        f"/api/v1/brands/{membership.brand.slug}/campaigns/{piece.campaign_id}/content/{piece.pk}/media/",
        {"file": svg},
        format="multipart",
    )

    assert response.status_code == 400
    assert "web page or SVG" in response.json()["detail"]
    piece.refresh_from_db()
    assert not piece.media
    assert _files() == []
