"""Issue 21 part 2 in a real browser at phone width: an influencer shares to a "you post, we verify" network
(a personal LinkedIn profile) from her phone: the share page gives her the text to copy (copy button, no inline
script), the image to download and LinkedIn's share window; she pastes her post's address, the worker verifies
the post on its public page (a local counterpart of linkedin.com, ``LINKILIKE_LINKEDIN_WEB_URL``), the share is
published, a visitor clicks her link, and after the retention period and the hold the participation fee is hers.
Screenshots at 390 px: test-artifacts/journey/proof-*.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import WAIT_MS, axe_check, reload_until_visible, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "proof-Passw0rd-2026"
INFLUENCER_EMAIL = "lena@proof.linkilike.test"
POST_PATH = "/posts/lena-roasts_winter-roast-activity-7301234567890123456-AbCd/"
PERMALINK = "https://www.linkedin.com" + POST_PATH
FEE_MINOR = 500
PHONE = {"width": 390, "height": 844}


class LinkedInPages(BaseHTTPRequestHandler):
    """linkedin.com's public post pages, as far as the journey needs them."""

    pages: ClassVar[dict[str, str]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        data = (body or "not found").encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def linkedin() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), LinkedInPages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def proof_stack(linkedin: str) -> Iterator[Any]:
    from tests.browser.stack import stack_start

    running = stack_start(extra_env={"LINKILIKE_LINKEDIN_WEB_URL": linkedin})
    try:
        yield running
    finally:
        running.stop()


def seed() -> dict[str, Any]:
    """Runs inside the stack (``manage.py shell``): a funded campaign with a participation fee, an influencer
    with a LinkedIn profile connected by handle, and her accepted share waiting for her post."""
    from django.core.files.base import ContentFile

    from campaigns.models import ContentPiece
    from campaigns.publishing.services import share_publication_schedule
    from networks.services_handle import handle_account_connect
    from tests.doubles.publishing import funded_campaign, ready_share
    from tests.factories.accounts import UserFactory
    from tests.factories.influencers import InfluencerProfileFactory

    campaign = funded_campaign(
        name="Proof Winter Roast",
        networks=["linkedin_profile"],
        cpm_minor=None,
        cpe_minor=None,
        cpc_minor=10,
        participation_fee_minor=FEE_MINOR,
    )
    content = ContentPiece.objects.get(campaign=campaign)
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    content.media.save("roast.png", ContentFile(png), save=False)
    content.media_kind = "image"
    content.save()
    influencer = InfluencerProfileFactory(
        user=UserFactory(email=INFLUENCER_EMAIL, password=PASSWORD), display_name="Lena Proof", languages=["en"]
    )
    account = handle_account_connect(
        influencer=influencer,
        network="linkedin_profile",
        handle="lena-roasts",
        profile_url="https://www.linkedin.com/in/lena-roasts/",
    )
    share = ready_share(account=account, campaign=campaign)
    share.content = content
    share.participation_fee_minor = FEE_MINOR
    share.save(update_fields=["content", "participation_fee_minor"])
    publication = share_publication_schedule(share=share)
    assert publication is not None
    return {"share": share.pk, "state": publication.state}


def after_the_hold() -> dict[str, Any]:
    """Runs inside the stack: the retention sweep a week on (the post is fetched again), then the hold release."""
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.earnings.services import earnings_release_due
    from campaigns.metrics.services import retention_check_due
    from campaigns.models import SharePublication
    from influencers.models import InfluencerProfile
    from payouts.models import AccountKind
    from payouts.selectors import influencer_balance_minor

    now = timezone.now()
    retention_check_due(now=now + timedelta(days=8))
    earnings_release_due(now=now + timedelta(days=40))
    influencer = InfluencerProfile.objects.get(user__email=INFLUENCER_EMAIL)
    publication = SharePublication.objects.get(share__influencer=influencer)
    return {
        "retained": publication.retained_at is not None,
        "available": influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE),
        "pending": influencer_balance_minor(influencer=influencer, kind=AccountKind.INFLUENCER_PENDING),
    }


def sign_in_on_a_phone(browser: Browser, stack: Any) -> Page:
    context = browser.new_context(
        base_url=stack.base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB", accept_downloads=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(INFLUENCER_EMAIL)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def test_an_influencer_posts_from_her_phone_and_earns_the_participation_fee(
    proof_stack: Any, journey_browser: Browser
) -> None:
    code = "import json; from tests.browser.test_proof_of_post_journey import seed; print(json.dumps(seed()))"
    seeded = json.loads(proof_stack.manage("shell", "-c", code).strip().splitlines()[-1])
    assert seeded["state"] == "needs_proof"
    checked: set[str] = set()

    page = sign_in_on_a_phone(journey_browser, proof_stack)
    page.goto("/i/shares/")
    expect(page.locator(".badge").filter(has_text="Waiting for you to post")).to_be_visible()
    page.locator("a.share-post-link").click()
    expect(page).to_have_url(re.compile(rf"/i/shares/{seeded['share']}/post/$"))
    expect(page.locator("h1")).to_have_text("Post on LinkedIn (personal profile)")
    shot(page, "proof-share-page", phone=False)
    axe_check(page, "proof-share-page", checked)

    # The text to copy: disclosure and her own tracking link in it; the copy button works (local JS, no inline).
    caption = page.locator("#share-post-caption").input_value()
    assert caption.startswith("#ad")
    link = re.search(r"https?://\S+/r/\S+", caption)
    assert link, caption
    page.locator("#share-post-copy").click()
    expect(page.locator("#share-post-copy-status")).to_have_text("Copied. Paste it into your post.")
    assert page.evaluate("() => navigator.clipboard.readText()") == caption

    # The image to download, and LinkedIn's own share window with her link (not opened: no internet in tests).
    with page.expect_download() as download:
        page.locator("#share-post-download").click()
    assert download.value.suggested_filename.endswith(".png")
    intent = page.locator("#share-post-intent").get_attribute("href") or ""
    assert intent.startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    assert "%2Fr%2F" in intent

    # She posts on LinkedIn (its public page now shows her post) and pastes the address.
    LinkedInPages.pages[POST_PATH] = (
        f'<html><a href="https://www.linkedin.com/in/lena-roasts/">Lena Proof</a><p>{caption}</p></html>'
    )
    page.locator("#share-post-url").fill(PERMALINK)
    page.locator("#share-post-submit").click()
    expect(page.locator("main")).to_contain_text("We are checking your post")
    reload_until_visible(page, "Published")
    expect(page.locator("#share-post-state")).to_have_text("Published")
    shot(page, "proof-verified", phone=False)
    axe_check(page, "proof-verified", checked)

    # Someone clicks her link: it leads to the brand's page.
    visitor = journey_browser.new_context(base_url=proof_stack.base_url)
    answer = visitor.request.get(link.group(0).replace("https://", "http://"), max_redirects=0)
    assert answer.status == 302
    assert answer.headers["location"].startswith("https://shop.example/roast")
    visitor.close()

    # A week on the post is still up with its disclosure; after the hold the participation fee is hers.
    code = (
        "import json; from tests.browser.test_proof_of_post_journey import after_the_hold; "
        "print(json.dumps(after_the_hold()))"
    )
    result = json.loads(proof_stack.manage("shell", "-c", code).strip().splitlines()[-1])
    assert result == {"retained": True, "available": FEE_MINOR, "pending": 0}, result
    page.goto("/i/earnings/")
    expect(page.locator("main")).to_contain_text(re.compile(r"5[.,]00"))
    shot(page, "proof-earnings", phone=False)
    axe_check(page, "proof-earnings", checked)
