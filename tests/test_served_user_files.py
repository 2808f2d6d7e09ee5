"""Every place the app stores and serves a file a person uploaded (audit after the sandbox media XSS).

The hostile files are the finding's polyglots (``tests.doubles.files``): valid GIFs that are also
JavaScript or HTML, uploaded as ``x.js``, ``x.html`` and ``x.svg``. Each place either refuses them or
stores them under a name of ours with the sniffed type and serves them as that type, with nosniff
and the sandboxing Content-Security-Policy. The places:

- campaign content images/videos (``campaigns.uploads``), served from ``/media/``;
- brand logos (``brands.services``), served from ``/media/``;
- sandbox media (``/sandbox/media/<id>``) and the generated sandbox avatars;
- ``/media/`` itself, which Django serves only in development (DEBUG) through
  ``linkilike.user_files.media_serve``; it also covers files stored under a client's name earlier;
- the CSV exports, which are generated from typed text: a download typed text/csv, never a page.

Influencers have no uploaded avatar (a connected account's avatar is a URL at its network).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from brands.models import Brand, BrandRole, Membership
from campaigns import services as campaign_services
from campaigns.errors import UploadRejected
from sandbox.models import SandboxMedia
from sandbox.services import access_token_issue, app_register, status_create
from tests.doubles.files import DANGEROUS_TYPES, HOSTILE_NAMES, gif_html_polyglot, gif_script_polyglot
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.sandbox import SandboxPersonaFactory

pytestmark = pytest.mark.django_db

USER_FILE_CSP = "sandbox; default-src 'none'"
SCRIPT_TAG = '<script src="/media/x.js"></script>'
POLYGLOTS = {
    "script": gif_script_polyglot(),
    "html": gif_html_polyglot("/media/x.js"),
}


def _project_urls_in_debug() -> ModuleType:
    """A fresh copy of the project's URLconf, built as in development (the /media/ route exists only
    with DEBUG, and the URLconf is read once), so the route under test is the one the project wires."""
    spec = importlib.util.find_spec("linkilike.urls")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def debug_site(settings: Any) -> Client:
    settings.DEBUG = True
    settings.ROOT_URLCONF = _project_urls_in_debug()
    return Client()


def _assert_safe_user_file(response: Any, content_type: str, *, inline: bool = True) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert not response["Content-Type"].startswith(DANGEROUS_TYPES)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == USER_FILE_CSP
    assert response["Content-Disposition"].startswith("inline; filename=" if inline else "attachment; filename=")
    assert "Content-Encoding" not in response


def _media_url(name: str) -> str:
    return f"{django_settings.MEDIA_URL}{name}"


def _stored_basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


# --- /media/ in development --------------------------------------------------------------------


@pytest.mark.parametrize("name", [*HOSTILE_NAMES, "x.html.gz", "x.pdf"])
def test_media_route_serves_a_file_under_a_clients_name_as_a_download(
    debug_site: Client, settings: Any, name: str
) -> None:
    # Files stored under the uploader's name before names were ours may still be on disk.
    folder = Path(settings.MEDIA_ROOT) / "legacy"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(POLYGLOTS["html"])

    response = debug_site.get(_media_url(f"legacy/{name}"))

    _assert_safe_user_file(response, "application/octet-stream", inline=False)


def test_media_route_serves_our_image_names_inline(debug_site: Client, settings: Any) -> None:
    folder = Path(settings.MEDIA_ROOT) / "campaigns"
    folder.mkdir(parents=True)
    (folder / "0123abcd.gif").write_bytes(POLYGLOTS["script"])

    response = debug_site.get(_media_url("campaigns/0123abcd.gif"))

    _assert_safe_user_file(response, "image/gif")
    assert response["Content-Disposition"] == 'inline; filename="0123abcd.gif"'


def test_media_route_does_not_leave_the_media_folder(debug_site: Client) -> None:
    assert debug_site.get(_media_url("../manage.py")).status_code in (400, 404)


# --- campaign content ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("kind", list(POLYGLOTS))
def test_campaign_content_polyglot_is_refused_or_served_as_an_image(debug_site: Client, name: str, kind: str) -> None:
    upload = SimpleUploadedFile(name, POLYGLOTS[kind], "text/html")
    try:
        piece = campaign_services.content_create(
            campaign=CampaignFactory(),
            title="Launch",
            target_url="https://shop.example/",
            variants=[campaign_services.VariantInput(text="Fresh roast.", language="en")],
            media=upload,
        )
    except UploadRejected:
        return  # the HTML polyglot has markup in its first bytes: refused outright

    assert _stored_basename(piece.media.name).endswith(".gif")
    assert not _stored_basename(piece.media.name).startswith("x.")
    _assert_safe_user_file(debug_site.get(piece.media.url), "image/gif")
    _assert_safe_user_file(debug_site.get(piece.thumbnail.url), "image/jpeg")


# --- brand logos -------------------------------------------------------------------------------


def _logo_post(name: str, content: bytes) -> tuple[Any, Brand]:
    owner: Membership = MembershipFactory.create(role=BrandRole.OWNER)
    client = Client()
    client.force_login(owner.user)
    response = client.post(
        reverse("brands:settings", kwargs={"brand_slug": owner.brand.slug}),
        {
            "name": owner.brand.name,
            "country": "AT",
            "currency": "EUR",
            "category": "",
            "website": "",
            "logo": SimpleUploadedFile(name, content, "image/gif"),
        },
    )
    owner.brand.refresh_from_db()
    return response, owner.brand


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("kind", list(POLYGLOTS))
def test_brand_logo_under_a_script_page_or_svg_name_is_refused(name: str, kind: str) -> None:
    response, brand = _logo_post(name, POLYGLOTS[kind])

    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors["logo"]
    assert not brand.logo


@pytest.mark.parametrize("name", ["logo.gif", "logo.png", "logo.pdf", "logo.eps"])
@pytest.mark.parametrize("kind", list(POLYGLOTS))
def test_brand_logo_is_stored_under_our_name_with_its_sniffed_type(debug_site: Client, name: str, kind: str) -> None:
    # The form's image check lets any name Pillow knows through (.pdf, .eps among them).
    response, brand = _logo_post(name, POLYGLOTS[kind])

    assert response.status_code == 302
    stored = _stored_basename(brand.logo.name)
    assert stored.endswith(".gif")
    assert not stored.startswith("logo")
    _assert_safe_user_file(debug_site.get(brand.logo.url), "image/gif")


def test_brand_logo_in_a_format_browsers_do_not_show_is_refused() -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "BMP")
    response, brand = _logo_post("logo.bmp", out.getvalue())

    assert response.status_code == 200
    assert response.context["form"].errors["logo"]
    assert not brand.logo


# --- sandbox media and avatars -------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("kind", list(POLYGLOTS))
def test_sandbox_media_polyglot_is_served_only_as_the_image_it_is(
    debug_site: Client, settings: Any, name: str, kind: str
) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0
    persona = SandboxPersonaFactory(owner=UserFactory())
    app = app_register(name="Evil", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes="read write")
    token = access_token_issue(app=app, persona=persona, scopes="read write").raw
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    uploaded = api.post(reverse("sandbox:media-create"), {"file": SimpleUploadedFile(name, POLYGLOTS[kind])})
    assert uploaded.status_code == 200, uploaded.content
    media = SandboxMedia.objects.get(pk=int(uploaded.json()["id"]))
    url = reverse("sandbox:media-file", kwargs={"media_id": media.pk})
    unposted = Client().get(url)
    status_create(persona=persona, text="hi", media_ids=[str(media.pk)])

    assert unposted.status_code == 404
    assert _stored_basename(media.file.name).endswith(".gif")
    _assert_safe_user_file(Client().get(url), "image/gif")
    _assert_safe_user_file(debug_site.get(media.file.url), "image/gif")


def test_sandbox_avatar_is_our_svg_and_locked_down() -> None:
    response = Client().get(reverse("sandbox:avatar", kwargs={"handle": "x_js"}))

    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == USER_FILE_CSP
    assert ">XJ</text>" in response.content.decode()


# --- exports -------------------------------------------------------------------------------------


def _export(route: str) -> Any:
    text = SCRIPT_TAG  # the HTML polyglot's payload, as typed text
    if route == "campaigns:results-export":
        member = MembershipFactory(role=BrandRole.OWNER)
        campaign = CampaignFactory(brand=member.brand, name=text)
        client = Client()
        client.force_login(member.user)
        return client.get(reverse(route, kwargs={"brand_slug": member.brand.slug, "pk": campaign.pk}))
    profile = InfluencerProfileFactory(display_name=text)
    client = Client()
    client.force_login(profile.user)
    return client.get(reverse(route))


@pytest.mark.parametrize("route", ["campaigns:results-export", "influencers:results-export", "payouts:earnings-export"])
def test_csv_exports_are_typed_downloads(route: str) -> None:
    response = _export(route)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["X-Content-Type-Options"] == "nosniff"
