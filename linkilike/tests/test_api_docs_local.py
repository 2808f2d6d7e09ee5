"""The API documentation pages load everything from this app: the CSP (self only) would block fonts,
scripts or a validator badge from another host, and a reader's browser should not call out anyway."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def _external(text: str) -> list[str]:
    found = [a or b for a, b in URL.findall(text)]
    found += re.findall(r"https?://[^\s\"'<>)]+", text)
    return sorted({url for url in found if re.match(r"^(https?:)?//", url) and "testserver" not in url})


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_api_docs_pages_reference_no_other_host(client: Client, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 200
    html = response.content.decode()
    assert _external(html) == []
    assert "fonts.googleapis.com" not in html
    # Scripts the page loads (Swagger UI's set-up is a separate script, not inline) carry no host either.
    for script in re.findall(r'<script[^>]+src="([^"]+)"', html):
        if "drf_spectacular_sidecar" in script:
            continue  # the vendored bundles: served from this site's static files, as checked above
        if script.startswith(settings.STATIC_URL):
            found = finders.find(script.removeprefix(settings.STATIC_URL))
            assert found, script
            body = Path(str(found)).read_text()
        else:
            response = client.get(script.replace("&amp;", "&"))
            assert response.status_code == 200, script
            body = response.content.decode()
        assert _external(body) == [], script


def test_swagger_ui_does_not_ask_an_outside_validator_for_a_badge(client: Client) -> None:
    setup = client.get(reverse("api-docs") + "?script=").content.decode()

    assert re.search(r'"validatorUrl":\s*null', setup)


def test_redoc_gets_a_script_that_keeps_its_images_on_this_host(client: Client) -> None:
    html = client.get(reverse("api-redoc")).content.decode()

    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    # Loaded before ReDoc's bundle: ReDoc's side menu would fetch Redocly's logo from its CDN.
    assert scripts[0].endswith("js/redoc-same-host-images.js"), scripts
    assert "redoc.standalone.js" in scripts[-1]
    assert "<style" not in html  # nothing inline
    assert "<script>" not in html
