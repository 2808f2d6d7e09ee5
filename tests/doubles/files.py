"""Hostile files for the tests of every place that stores or serves a file a person uploaded.

Both are valid GIFs (Pillow decodes them completely, ``filetype`` calls them image/gif), so a check
that only asks "is this an image?" lets them through; what keeps them harmless is storing them under
a server-chosen name with the sniffed type and serving them with that type, nosniff and a sandboxing
Content-Security-Policy. Used by ``tests/test_served_user_files.py`` and ``sandbox/tests``.
"""

from __future__ import annotations

import io

from PIL import Image

#: The client-side names the attack uses: each would make a name-based type guess dangerous.
HOSTILE_NAMES = ("x.js", "x.html", "x.svg")
#: Content types that would let a served file run script on the app's origin.
DANGEROUS_TYPES = ("text/javascript", "application/javascript", "text/html", "image/svg+xml", "application/xhtml")


def _gif() -> bytearray:
    out = io.BytesIO()
    Image.new("P", (10, 10), 0).save(out, "GIF")
    data = bytearray(out.getvalue())
    data[3:6] = b"89a"
    return data


def gif_script_polyglot() -> bytes:
    """GIF89a whose logical-screen width bytes are ``/*``: as JavaScript it reads
    ``GIF89a/* ...binary comment... */=1;alert(1)``."""
    data = _gif()
    data[6:8] = b"/*"
    if b"*/" in data:  # the comment must not end early
        raise AssertionError("the GIF body closes the comment")
    return bytes(data) + b"*/=1;alert(1)"


def gif_html_polyglot(script_src: str) -> bytes:
    """A GIF followed by a script tag: as HTML it loads ``script_src`` on the page's origin."""
    return bytes(_gif()) + f'<script src="{script_src}"></script>'.encode()
