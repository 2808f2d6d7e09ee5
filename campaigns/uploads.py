"""Upload checks for campaign media: the real type is sniffed from the bytes, never trusted from the name.

Images must decode completely with Pillow (so truncated files and decompression bombs are
refused) and be JPEG, PNG, WebP or GIF; videos must carry MP4 or WebM magic bytes. SVG, HTML
and anything else is refused whatever it is called. Thumbnails are JPEGs generated here.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from campaigns.errors import UploadRejected

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 100 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
THUMBNAIL_SIZE = (480, 480)

IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
VIDEO_MIME = {"video/mp4": "mp4", "video/webm": "webm"}


@dataclass(frozen=True)
class CheckedMedia:
    kind: str  # "image" | "video"
    extension: str
    size: int
    width: int | None = None
    height: int | None = None


def _read_head(upload: UploadedFile, count: int = 8192) -> bytes:
    upload.seek(0)
    head = upload.read(count)
    upload.seek(0)
    return head


def _looks_like_markup(head: bytes) -> bool:
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()[:512]
    return sample.startswith((b"<", b"<?xml")) or b"<svg" in sample or b"<html" in sample or b"<script" in sample


def media_check(upload: UploadedFile) -> CheckedMedia:
    """Return what the file really is, or raise ``UploadRejected`` with a message for the person."""
    size = upload.size or 0
    if size == 0:
        raise UploadRejected(_("The file is empty."), field="media")
    head = _read_head(upload)
    if _looks_like_markup(head):
        raise UploadRejected(
            _(
                "This file is a web page or SVG drawing, not a photo or video. "
                "Upload a JPEG, PNG, WebP, GIF, MP4 or WebM."
            ),
            field="media",
        )
    kind = filetype.guess(head)
    if kind is not None and kind.mime in VIDEO_MIME:
        if size > MAX_VIDEO_BYTES:
            raise UploadRejected(
                _("This video is %(size)s MB; videos can be at most %(max)s MB.")
                % {"size": round(size / 1024 / 1024, 1), "max": MAX_VIDEO_BYTES // 1024 // 1024},
                field="media",
            )
        return CheckedMedia(kind="video", extension=VIDEO_MIME[kind.mime], size=size)
    return _image_check(upload, size)


def _image_check(upload: UploadedFile, size: int) -> CheckedMedia:
    if size > MAX_IMAGE_BYTES:
        raise UploadRejected(
            _("This image is %(size)s MB; images can be at most %(max)s MB.")
            % {"size": round(size / 1024 / 1024, 1), "max": MAX_IMAGE_BYTES // 1024 // 1024},
            field="media",
        )
    unreadable = UploadRejected(
        _(
            "This file is not an image or video we can use (or it is damaged). "
            "Upload a JPEG, PNG, WebP, GIF, MP4 or WebM."
        ),
        field="media",
    )
    too_large = UploadRejected(
        _("This image has too many pixels; at most %(max)s megapixels are allowed.")
        % {"max": MAX_IMAGE_PIXELS // 1_000_000},
        field="media",
    )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format or ""
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise too_large
                probe.verify()
            # verify() does not decode pixel data; load() does, and fails on truncated files.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large from exc
    except UploadRejected:
        raise
    except Exception as exc:  # Pillow raises many types for broken input
        raise unreadable from exc
    if image_format not in IMAGE_FORMATS:
        raise unreadable
    return CheckedMedia(kind="image", extension=IMAGE_FORMATS[image_format], size=size, width=width, height=height)


def thumbnail_make(upload: UploadedFile) -> ContentFile[bytes]:
    """A JPEG thumbnail of a checked image (first frame for GIFs)."""
    upload.seek(0)
    with Image.open(upload) as image:
        oriented = ImageOps.exif_transpose(image)
        oriented.thumbnail(THUMBNAIL_SIZE)
        rgb = oriented.convert("RGB")
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=82, optimize=True)
    upload.seek(0)
    return ContentFile(out.getvalue())
