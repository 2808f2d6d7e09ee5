"""Fitting a content image to a network's byte limit and image types (Pillow), before it is uploaded,
and storing that copy for networks that fetch it by URL."""

from __future__ import annotations

import hashlib
import io
import mimetypes
import posixpath
from collections.abc import Collection

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from PIL import Image, ImageOps, UnidentifiedImageError

#: Each step shrinks the longer side to this share of the previous size.
SCALE_STEP = 0.8
#: Below this longer side an image is no use in a post.
MIN_SIDE = 200
JPEG_QUALITIES = (85, 75, 65)


class ImageTooLarge(Exception):
    """The image cannot be brought under the network's byte limit (or into a type it takes)."""


def _content_type(filename: str, image_format: str | None) -> str:
    if image_format:
        guessed = Image.MIME.get(image_format.upper())
        if guessed:
            return guessed
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def image_fit(
    *, content: bytes, filename: str, max_bytes: int | None, accepted_types: Collection[str] = ()
) -> tuple[bytes, str, str]:
    """``(bytes, filename, content_type)`` no larger than ``max_bytes``, of one of ``accepted_types``
    (empty: any type).

    Images within the limit and of an accepted type go out unchanged. Others are re-encoded as JPEG
    (transparency flattened onto white, the first frame of an animation) and scaled down step by step
    until they fit; ``ImageTooLarge`` when even the smallest useful size does not fit, or the file is
    not an image Pillow can read.
    """
    fits = max_bytes is None or len(content) <= max_bytes
    try:
        with Image.open(io.BytesIO(content)) as probe:
            image_format = probe.format
    except (UnidentifiedImageError, OSError) as error:
        content_type = _content_type(filename, None)
        if fits and (not accepted_types or content_type in accepted_types):
            return content, filename, content_type
        raise ImageTooLarge(f"{filename} is not a readable image") from error
    content_type = _content_type(filename, image_format)
    if fits and (not accepted_types or content_type in accepted_types):
        return content, filename, content_type
    with Image.open(io.BytesIO(content)) as opened:
        image = ImageOps.exif_transpose(opened)
        image.load()
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    stem = filename.rsplit(".", 1)[0] or "image"
    current = image
    while True:
        for quality in JPEG_QUALITIES:
            buffer = io.BytesIO()
            current.save(buffer, format="JPEG", quality=quality, optimize=True)
            if max_bytes is None or buffer.tell() <= max_bytes:
                return buffer.getvalue(), f"{stem}.jpg", "image/jpeg"
        width, height = current.size
        if max(width, height) * SCALE_STEP < MIN_SIDE:
            raise ImageTooLarge(f"{filename} stays over {max_bytes:,} bytes even at {width}x{height}")
        current = image.resize(
            (max(1, int(width * SCALE_STEP)), max(1, int(height * SCALE_STEP))), Image.Resampling.LANCZOS
        )


def network_copy_save(*, storage: Storage, original_name: str, content: bytes, filename: str) -> str:
    """The stored name of ``content``, the copy of ``original_name`` made for a network, written next to
    the original under a name derived from the copy's bytes (so the shares of a content piece on one
    network, and every retry, reuse one copy). Content pieces cannot change once their campaign is
    approved, so the copy lives as long as its original."""
    folder, original = posixpath.split(original_name)
    stem = original.rsplit(".", 1)[0]
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    digest = hashlib.sha256(content).hexdigest()[:16]
    name = posixpath.join(folder, f"{stem}_net_{digest}.{extension}")
    if storage.exists(name):
        return name
    return storage.save(name, ContentFile(content))
