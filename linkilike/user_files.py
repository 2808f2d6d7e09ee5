"""Files people upload, from the bytes in to the response out.

A file a person uploaded is served from the app's own origin, where ``script-src 'self'`` trusts
it. So its type is sniffed from its bytes and it is stored under a name of ours with the extension
of that type (``image_sniff``); the client's file name never reaches storage or a response, as a
GIF can also be valid JavaScript or HTML and the name decides how a browser or a web server treats
it. Every response carrying such a file gets ``user_file_headers``: nosniff, a Content-Security-Policy
that sandboxes it if it is opened as a page, and a Content-Disposition with a name of ours.
``media_serve`` serves ``MEDIA_ROOT`` that way in development (DEBUG). On object storage
(``linkilike.media_storage``) the bucket answers instead, through presigned URLs that ask it for the
same type and disposition (``user_file_served_as``); ``stored_file_url`` is the address a network
fetches a file from.
"""

from __future__ import annotations

import io
import posixpath
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponseBase
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe
from django.views.static import serve
from PIL import Image

#: Opened as a page, a user file runs in an opaque origin with nothing allowed to load or run.
USER_FILE_CSP = "sandbox; default-src 'none'"

#: Pillow format -> (content type, extension). Only formats every browser shows as an image.
IMAGE_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
IMAGE_EXTENSIONS = dict(IMAGE_TYPES.values())  # content type -> extension
#: Extensions of the names we give stored files -> the type they are served with inline. Anything
#: else under MEDIA_ROOT (a file stored under a client's name before names were ours) is a download.
INLINE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "webm": "video/webm",
}
DOWNLOAD_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class SniffedImage:
    content_type: str
    extension: str
    width: int
    height: int


def image_sniff(data: bytes, *, max_pixels: int) -> SniffedImage | None:
    """What ``data`` really is when it is a JPEG, PNG, GIF or WebP that decodes completely within
    ``max_pixels``; ``None`` for anything else (other formats, truncated files, decompression bombs)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the decoders of the accepted formats get to look at the bytes.
            with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as probe:
                image_format = probe.format or ""
                width, height = probe.size
                if width * height > max_pixels:
                    return None
                probe.verify()
            # verify() does not decode pixel data; load() does, and fails on truncated files.
            with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as image:
                image.load()
    except Exception:  # noqa: BLE001 - Pillow raises many types for hostile input; each means "not an image we take"
        return None
    if image_format not in IMAGE_TYPES:
        return None
    content_type, extension = IMAGE_TYPES[image_format]
    return SniffedImage(content_type=content_type, extension=extension, width=width, height=height)


@dataclass(frozen=True)
class ServedAs:
    """How a stored file is served, judged by the name we gave it (never by the client's)."""

    content_type: str
    inline: bool
    filename: str

    @property
    def disposition(self) -> str:
        return content_disposition_header(not self.inline, self.filename) or "inline"


def user_file_served_as(name: str) -> ServedAs:
    """Our image and video names are served inline as their type; anything else (a file stored under a
    client's name before names were ours) is an ``application/octet-stream`` download."""
    filename = posixpath.basename(name)
    content_type = INLINE_TYPES.get(posixpath.splitext(filename)[1].lower().lstrip("."))
    return ServedAs(content_type=content_type or DOWNLOAD_TYPE, inline=content_type is not None, filename=filename)


def stored_file_url(storage: Storage, name: str, *, seconds: int) -> str:
    """An absolute address where someone outside (a network fetching an image) can read ``name``.

    On object storage a presigned URL valid for ``seconds``; on the file system the ``/media/``
    address on ``SITE_URL`` (which only development serves)."""
    if getattr(storage, "querystring_auth", False):
        return str(storage.url(name, expire=seconds))  # type: ignore[call-arg]  # S3Storage.url takes expire
    url = storage.url(name)
    return url if url.startswith(("https://", "http://")) else f"{settings.SITE_URL}{url}"


def user_file_headers(response: HttpResponseBase, *, filename: str, inline: bool = True) -> HttpResponseBase:
    """The headers every response carrying a user's file gets. The caller sets the content type,
    from what was sniffed at upload, never from a name the client chose."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = USER_FILE_CSP
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or "inline"
    return response


@require_safe
def media_serve(request: HttpRequest, path: str) -> HttpResponseBase:
    """``MEDIA_ROOT`` in development, in place of ``django.views.static.serve``, which types a file
    by its name (``x.html`` as a page, ``x.js`` as a script, ``x.html.gz`` as a compressed page)."""
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    served = user_file_served_as(path)
    if "Content-Encoding" in response:
        del response["Content-Encoding"]
    response["Content-Type"] = served.content_type
    return user_file_headers(response, filename=served.filename, inline=served.inline)
