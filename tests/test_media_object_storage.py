"""Uploads on object storage, against a real S3-compatible server (moto's, over HTTP; ``s3_media``).

Every place that stores a person's file writes it through ``STORAGES["default"]`` into a private
bucket; pages show it through time-limited presigned URLs that make the service answer with our type
and disposition; a network that fetches images itself gets a presigned URL of the copy made for it;
nothing in the bucket is readable without a signature.
"""

from __future__ import annotations

import html
import io
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from brands.models import BrandRole, Membership
from campaigns import services as campaign_services
from campaigns.models import ContentPiece, MediaKind, Share
from campaigns.publishing import services as publishing
from networks import services as network_services
from networks.providers.instagram import InstagramProvider
from networks.providers.threads import ThreadsProvider
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from sandbox.services import access_token_issue, app_register, status_create
from tests.doubles.files import gif_html_polyglot, gif_script_polyglot
from tests.doubles.publishing import ready_share
from tests.doubles.s3 import MediaBucket
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, png_bytes, png_upload
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.sandbox import SandboxPersonaFactory
from tests.production import probe as probe_in_production
from tests.production import production_env, run_python

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
IMG_SRC = re.compile(r'<img src="([^"]+)"[^>]*class="([^"]*)"')


def _images(page: str, css_class: str) -> list[str]:
    return [html.unescape(src) for src, classes in IMG_SRC.findall(page) if css_class in classes.split()]


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _key(bucket: MediaBucket, url: str) -> str:
    """The object a presigned URL reads; it must point into the test's bucket on the server."""
    prefix = f"{bucket.server.url}/{bucket.name}/"
    assert url.startswith(prefix), url
    return urlsplit(url).path.removeprefix(f"/{bucket.name}/")


def _assert_presigned(url: str, *, seconds: int) -> None:
    query = _query(url)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Signature"]
    assert query["X-Amz-Expires"] == str(seconds)


def _no_files_on_disk(settings: Any) -> bool:
    root = Path(settings.MEDIA_ROOT)
    return not root.exists() or not any(path.is_file() for path in root.rglob("*"))


# --- campaign content: stored in the bucket, shown through presigned URLs --------------------------


def test_uploaded_content_is_stored_in_the_bucket_and_the_page_shows_it_through_a_presigned_url(
    s3_media: MediaBucket, settings: Any
) -> None:
    membership: Membership = MembershipFactory.create(role=BrandRole.MANAGER)
    campaign = CampaignFactory(brand=membership.brand, languages=["en"])
    client = Client()
    client.force_login(membership.user)

    response = client.post(
        reverse("campaigns:content-create", args=[campaign.brand.slug, campaign.pk]),
        {
            "title": "Launch",
            "target_url": "https://shop.example/roast",
            "media": png_upload("holiday.html", size=(1200, 800)),
            "variant_1_text": "Fresh roast!",
            "variant_1_language": "en",
            "variant_2_language": "en",
            "variant_3_language": "en",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert response.redirect_chain, response.context["form"].errors
    piece = ContentPiece.objects.get()
    assert s3_media.keys() == sorted([piece.media.name, piece.thumbnail.name])
    assert s3_media.read(piece.media.name)[:8] == b"\x89PNG\r\n\x1a\n"
    stored = s3_media.head(piece.media.name)
    assert stored["ContentType"] == "image/png"  # from the sniffed type, not the client's name
    assert stored["ContentDisposition"].startswith("inline; filename=")
    assert _no_files_on_disk(settings)

    [thumbnail_url] = _images(response.content.decode(), "thumb")
    assert _key(s3_media, thumbnail_url) == piece.thumbnail.name
    _assert_presigned(thumbnail_url, seconds=settings.MEDIA_URL_SECONDS)
    fetched = requests.get(thumbnail_url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"] == f'inline; filename="{piece.thumbnail.name.rsplit("/", 1)[-1]}"'
    assert fetched.content == s3_media.read(piece.thumbnail.name)
    with Image.open(io.BytesIO(fetched.content)) as thumbnail:
        assert max(thumbnail.size) <= 480


def test_content_of_a_campaign_not_yet_published_is_refused_without_a_signature(s3_media: MediaBucket) -> None:
    piece = campaign_services.content_create(
        campaign=CampaignFactory(),  # a draft
        title="Launch",
        target_url="https://shop.example/",
        variants=[campaign_services.VariantInput(text="Fresh roast.", language="en")],
        media=png_upload(),
    )

    client = s3_media.server.client()
    for name in (piece.media.name, piece.thumbnail.name):
        assert requests.get(s3_media.unsigned_url(name), timeout=10).status_code == 403
        assert requests.get(piece.media.storage.url(name), timeout=10).status_code == 200  # signed: readable
        grants = client.get_object_acl(Bucket=s3_media.name, Key=name)["Grants"]
        assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner's, nobody else's
        assert "URI" not in grants[0]["Grantee"]  # not AllUsers / AuthenticatedUsers


def test_a_stored_name_that_is_not_ours_is_served_as_a_download_by_the_bucket(s3_media: MediaBucket) -> None:
    # A file stored under a client's name before names were ours (as /media/ handles them in development).
    name = default_storage.save("legacy/x.html", ContentFile(gif_html_polyglot("/media/x.js")))

    url = default_storage.url(name)
    fetched = requests.get(url, timeout=10)

    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="x.html"'
    assert s3_media.head(name)["ContentType"] == "application/octet-stream"


# --- networks that fetch images themselves ---------------------------------------------------------


@pytest.fixture
def instagram(settings: Any) -> Any:
    with running_meta_double("instagram") as double:
        settings.INSTAGRAM_GRAPH_URL = double.url
        settings.INSTAGRAM_APP_ID = CLIENT_ID
        settings.INSTAGRAM_APP_SECRET = CLIENT_SECRET
        yield double


def _instagram_share(double: MetaDouble) -> Share:
    redirect = "http://testserver/i/accounts/callback/"
    start = network_services.account_connect_begin(network="instagram", instance_url=double.url, redirect_uri=redirect)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    account = network_services.account_connect_complete(
        influencer=InfluencerProfileFactory(),
        network="instagram",
        instance_url=double.url,
        code=parse_qs(urlsplit(location).query)["code"][0],
        code_verifier=start.code_verifier,
        redirect_uri=redirect,
    )
    return ready_share(account=account)


def _with_image(share: Share, data: bytes, name: str) -> ContentPiece:
    content = share.campaign.content.order_by("position", "pk").first()
    assert content is not None
    content.media.save(name, ContentFile(data), save=False)
    content.media_kind = MediaKind.IMAGE
    content.save()
    return content


def test_instagram_gets_a_presigned_url_of_the_jpeg_copy_made_for_it(
    s3_media: MediaBucket, settings: Any, instagram: MetaDouble
) -> None:
    settings.MEDIA_NETWORK_URL_SECONDS = 5400
    share = _instagram_share(instagram)
    original = png_bytes(size=(640, 480))
    content = _with_image(share, original, f"{secrets.token_hex(8)}.png")

    publication = publishing.share_publication_schedule(share=share)
    assert publication is not None
    publishing.publication_publish(publication_id=publication.pk)

    [container] = instagram.state.containers.values()
    image_url = container["image_url"]
    copy = _key(s3_media, image_url)
    assert copy != content.media.name  # Instagram takes JPEG only: the copy made for it, not the PNG
    assert copy.startswith(content.media.name.rsplit(".", 1)[0] + "_net_")
    assert s3_media.keys() == sorted([content.media.name, copy])
    _assert_presigned(image_url, seconds=5400)
    fetched = requests.get(image_url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(fetched.content)) as sent:
        assert (sent.format, sent.size) == ("JPEG", (640, 480))
    assert requests.get(s3_media.unsigned_url(copy), timeout=10).status_code == 403
    assert requests.get(s3_media.unsigned_url(content.media.name), timeout=10).status_code == 403


def test_the_copy_is_made_once_and_an_image_the_network_takes_as_it_is_is_fetched_from_the_original(
    s3_media: MediaBucket,
) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 120, 200)).save(gif, "GIF")
    content = _with_image(ready_share(), gif.getvalue(), f"{secrets.token_hex(8)}.gif")

    first, _ = publishing._content_image(content=content, capabilities=InstagramProvider.capabilities)
    again, _ = publishing._content_image(content=content, capabilities=InstagramProvider.capabilities)

    assert first is not None
    assert again is not None
    assert first.content_type == "image/jpeg"
    assert _key(s3_media, first.url) == _key(s3_media, again.url)  # one copy for every share and every retry
    assert len(s3_media.keys()) == 2
    assert requests.get(first.url, timeout=10).content == first.content

    png_piece = _with_image(ready_share(), png_bytes(size=(320, 240)), f"{secrets.token_hex(8)}.png")
    threads, _ = publishing._content_image(content=png_piece, capabilities=ThreadsProvider.capabilities)
    assert threads is not None
    assert _key(s3_media, threads.url) == png_piece.media.name  # Threads takes PNG: nothing to copy
    assert requests.get(threads.url, timeout=10).content == threads.content


# --- brand logos and sandbox media --------------------------------------------------------------


def test_brand_logo_is_stored_in_the_bucket_and_shown_through_a_presigned_url(s3_media: MediaBucket) -> None:
    owner: Membership = MembershipFactory.create(role=BrandRole.OWNER)
    client = Client()
    client.force_login(owner.user)
    client.post(
        reverse("brands:settings", kwargs={"brand_slug": owner.brand.slug}),
        {
            "name": owner.brand.name,
            "country": "AT",
            "currency": "EUR",
            "category": "",
            "website": "",
            "logo": SimpleUploadedFile("logo.pdf", gif_script_polyglot(), "application/pdf"),
        },
    )
    owner.brand.refresh_from_db()
    assert s3_media.keys() == [owner.brand.logo.name]

    page = client.get(reverse("brands:dashboard", kwargs={"brand_slug": owner.brand.slug})).content.decode()
    [logo_url] = _images(page, "brand-logo")
    assert _key(s3_media, logo_url) == owner.brand.logo.name
    fetched = requests.get(logo_url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/gif"
    assert requests.get(s3_media.unsigned_url(owner.brand.logo.name), timeout=10).status_code == 403


def test_sandbox_media_is_stored_in_the_bucket_and_served_by_the_app_with_the_lockdown_headers(
    s3_media: MediaBucket, settings: Any
) -> None:
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0
    persona = SandboxPersonaFactory.create(handle="mallory")
    app = app_register(name="App", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes="read write")
    token = access_token_issue(app=app, persona=persona, scopes="read write").raw
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    upload = SimpleUploadedFile("x.js", gif_script_polyglot(), "text/javascript")
    media_id = api.post(reverse("sandbox:media-create"), {"file": upload}).json()["id"]
    status_create(persona=persona, text="photo", media_ids=[media_id])

    [key] = s3_media.keys()
    assert key.endswith(".gif")
    response = Client().get(reverse("sandbox:media-file", kwargs={"media_id": int(media_id)}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert b"".join(response.streaming_content) == s3_media.read(key)


# --- production settings --------------------------------------------------------------------------

SETTINGS_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.core.files.storage import default_storage
print(json.dumps({
    "storage": settings.STORAGES["default"],
    "img_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
    "media_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["media-src"],
    "url": default_storage.url("campaigns/1/2/abc.jpg"),
}))
"""


def _production(**extra: str) -> dict[str, Any]:
    env = production_env(**extra)
    for name in list(env):
        if name.startswith("LINKILIKE_MEDIA_S3_") and name not in extra:
            del env[name]
    return probe_in_production(SETTINGS_PROBE, env=env)


def test_production_settings_put_uploads_in_a_private_bucket_and_let_pages_load_them() -> None:
    probe = _production(
        LINKILIKE_MEDIA_S3_BUCKET="linkilike-media",
        LINKILIKE_MEDIA_S3_ENDPOINT_URL="http://minio:9000",
        LINKILIKE_MEDIA_S3_PUBLIC_URL="https://media.linkilike.example",
        LINKILIKE_MEDIA_S3_REGION="eu-central-1",
        LINKILIKE_MEDIA_S3_ACCESS_KEY_ID="key",
        LINKILIKE_MEDIA_S3_SECRET_ACCESS_KEY="secret",
    )

    storage = probe["storage"]
    assert storage["BACKEND"] == "linkilike.media_storage.MediaS3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "linkilike-media"
    assert options["endpoint_url"] == "http://minio:9000"
    assert options["querystring_auth"] is True
    assert options["default_acl"] is None
    assert "https://media.linkilike.example" in probe["img_src"]
    assert "https://media.linkilike.example" in probe["media_src"]
    # Signed for the address people reach, not the one the app uses inside the deployment.
    assert probe["url"].startswith("https://media.linkilike.example/linkilike-media/campaigns/1/2/abc.jpg?")
    assert "X-Amz-Signature=" in probe["url"]
    assert "response-content-type=image%2Fjpeg" in probe["url"]


def test_on_aws_urls_use_the_buckets_own_host_which_the_pages_may_load_from() -> None:
    probe = _production(
        LINKILIKE_MEDIA_S3_BUCKET="linkilike-media",
        LINKILIKE_MEDIA_S3_REGION="eu-central-1",
        LINKILIKE_MEDIA_S3_ACCESS_KEY_ID="key",
        LINKILIKE_MEDIA_S3_SECRET_ACCESS_KEY="secret",
    )

    assert probe["url"].startswith("https://linkilike-media.s3.eu-central-1.amazonaws.com/campaigns/1/2/abc.jpg?")
    assert "https://linkilike-media.s3.eu-central-1.amazonaws.com" in probe["img_src"]


def test_deploy_check_warns_when_production_keeps_uploads_on_the_file_system() -> None:
    def deploy_check(**extra: str) -> str:
        result = run_python("manage.py", "check", "--deploy", "--tag", "files", env=production_env(**extra))
        return result.stdout + result.stderr

    assert "linkilike.W001" in deploy_check()
    assert "linkilike.W001" not in deploy_check(LINKILIKE_MEDIA_S3_BUCKET="linkilike-media")
