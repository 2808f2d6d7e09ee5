"""Fitting a content image to a network's byte limit (Pillow), before it is uploaded."""

from __future__ import annotations

import io
import mimetypes

from PIL import Image, ImageOps, UnidentifiedImageError

#: Each step shrinks the longer side to this share of the previous size.
SCALE_STEP = 0.8
#: Below this longer side an image is no use in a post.
MIN_SIDE = 200
JPEG_QUALITIES = (85, 75, 65)


class ImageTooLarge(Exception):
    """The image cannot be brought under the network's byte limit."""


def _content_type(filename: str, image_format: str | None) -> str:
    if image_format:
        guessed = Image.MIME.get(image_format.upper())
        if guessed:
            return guessed
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def image_fit(*, content: bytes, filename: str, max_bytes: int | None) -> tuple[bytes, str, str]:
    """``(bytes, filename, content_type)`` no larger than ``max_bytes``.

    Images within the limit go out unchanged. Larger ones are re-encoded as JPEG (transparency
    flattened onto white) and scaled down step by step until they fit; ``ImageTooLarge`` when even
    the smallest useful size does not fit, or the file is not an image Pillow can read.
    """
    try:
        with Image.open(io.BytesIO(content)) as probe:
            image_format = probe.format
    except (UnidentifiedImageError, OSError) as error:
        if max_bytes is None or len(content) <= max_bytes:
            return content, filename, _content_type(filename, None)
        raise ImageTooLarge(f"{filename} is not a readable image") from error
    if max_bytes is None or len(content) <= max_bytes:
        return content, filename, _content_type(filename, image_format)
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
            if buffer.tell() <= max_bytes:
                return buffer.getvalue(), f"{stem}.jpg", "image/jpeg"
        width, height = current.size
        if max(width, height) * SCALE_STEP < MIN_SIDE:
            raise ImageTooLarge(f"{filename} stays over {max_bytes:,} bytes even at {width}x{height}")
        current = image.resize(
            (max(1, int(width * SCALE_STEP)), max(1, int(height * SCALE_STEP))), Image.Resampling.LANCZOS
        )
