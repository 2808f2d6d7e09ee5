"""The content piece's image travels with the published share: bytes for upload networks, the public
URL for networks that fetch it, shrunk to the network's byte limit."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from campaigns.models import MediaKind, PublicationState, Share
from campaigns.publishing import services
from campaigns.publishing.media import ImageTooLarge, image_fit
from tests.doubles.publishing import RecordingProvider, ready_share, recording_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network(settings: Any, tmp_path: Path) -> Any:
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"
    settings.MEDIA_ROOT = str(tmp_path)
    return RecordingProvider.reset()


def png(size: tuple[int, int] = (120, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 90, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def noisy_png(size: tuple[int, int]) -> bytes:
    """Random pixels: PNG cannot compress them, so the file is large."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def with_image(share: Share, data: bytes, name: str = "roast.png") -> None:
    content = share.campaign.content.order_by("position", "pk").first()
    assert content is not None
    content.media.save(name, ContentFile(data), save=False)
    content.media_kind = MediaKind.IMAGE
    content.title = "Fresh roast beans"
    content.save()


def publish(share: Share) -> Any:
    publication = services.share_publication_schedule(share=share)
    assert publication is not None
    return services.publication_publish(publication_id=publication.pk)


def test_upload_network_receives_the_image_bytes(network: Any) -> None:
    share = ready_share()
    data = png()
    with_image(share, data)

    publication = publish(share)

    assert publication.state == PublicationState.PUBLISHED
    [post] = network.posts
    [item] = post.media
    assert item.content == data
    assert item.content_type == "image/png"
    assert item.filename.endswith(".png")
    assert item.description == "Fresh roast beans"
    assert item.url == ""  # uploaded, not fetched


def jpeg(size: tuple[int, int] = (120, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 90, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_by_url_network_gets_the_address_of_the_copy_made_for_it(network: Any, settings: Any) -> None:
    share = ready_share(network="byurl", instance_url="https://byurl.example")
    with_image(share, png())

    publication = publish(share)

    assert publication.state == PublicationState.PUBLISHED
    [item] = network.posts[0].media
    content = share.campaign.content.get()
    assert item.content_type == "image/jpeg"  # the network takes JPEG only: a copy, not the PNG
    copy = item.url.removeprefix("https://linkilike.test/media/")
    assert copy != content.media.name
    assert copy.startswith(content.media.name.removesuffix(".png") + "_net_")
    assert (Path(settings.MEDIA_ROOT) / copy).read_bytes() == item.content


def test_by_url_network_gets_the_original_when_it_takes_it_as_it_is(network: Any) -> None:
    share = ready_share(network="byurl", instance_url="https://byurl.example")
    data = jpeg()
    with_image(share, data, name="roast.jpg")

    publication = publish(share)

    assert publication.state == PublicationState.PUBLISHED
    [item] = network.posts[0].media
    content = share.campaign.content.get()
    assert item.url == f"https://linkilike.test/media/{content.media.name}"
    assert item.content == data


def test_share_without_an_image_goes_out_as_text(network: Any) -> None:
    publication = publish(ready_share())

    assert publication.state == PublicationState.PUBLISHED
    assert network.posts[0].media == ()


def test_network_that_requires_an_image_fails_with_a_reason_without_one(network: Any) -> None:
    publication = publish(ready_share(network="byurl", instance_url="https://byurl.example"))

    assert publication.state == PublicationState.FAILED
    assert "only takes posts with an image" in publication.last_error
    assert network.posts == []


def test_oversize_image_is_downscaled_under_the_network_limit(network: Any) -> None:
    share = ready_share(network="smallimages", instance_url="https://small.example")
    original = noisy_png((400, 300))
    assert len(original) > 40_000
    with_image(share, original)

    publication = publish(share)

    assert publication.state == PublicationState.PUBLISHED
    [item] = network.posts[0].media
    assert len(item.content) <= 40_000
    assert item.content_type == "image/jpeg"
    assert item.filename == "roast.jpg"
    with Image.open(io.BytesIO(item.content)) as sent:
        assert sent.format == "JPEG"
        assert sent.size[0] / sent.size[1] == pytest.approx(4 / 3, rel=0.02)


def test_image_that_cannot_fit_is_left_out_where_text_only_is_allowed(network: Any, settings: Any) -> None:
    share = ready_share(network="smallimages", instance_url="https://small.example")
    with_image(share, b"\x89PNG" + b"0" * 50_000, name="broken.png")

    publication = publish(share)

    assert publication.state == PublicationState.PUBLISHED
    assert network.posts[0].media == ()


def test_image_fit_turns_a_type_the_network_does_not_take_into_a_jpeg_of_the_same_size() -> None:
    data, filename, content_type = image_fit(
        content=png((300, 200)), filename="x.png", max_bytes=None, accepted_types={"image/jpeg"}
    )

    assert (filename, content_type) == ("x.jpg", "image/jpeg")
    with Image.open(io.BytesIO(data)) as converted:
        assert (converted.format, converted.size) == ("JPEG", (300, 200))
    same = jpeg()
    assert image_fit(content=same, filename="x.jpg", max_bytes=None, accepted_types={"image/jpeg"})[0] is same


def test_image_fit_refuses_what_cannot_shrink() -> None:
    with pytest.raises(ImageTooLarge):
        image_fit(content=noisy_png((300, 300)), filename="x.png", max_bytes=500)
    same = png()
    assert image_fit(content=same, filename="x.png", max_bytes=None) == (same, "x.png", "image/png")
