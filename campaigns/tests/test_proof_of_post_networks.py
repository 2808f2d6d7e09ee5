"""Issue 21 part 2: "you post, we verify" networks (a personal Facebook profile, a personal Instagram account,
TikTok, a personal LinkedIn profile). Each verification path against a local HTTP counterpart of the network's
public read (TikTok's oEmbed endpoint, LinkedIn's public post page; their hosts are settings): a public post with
the disclosure and the link is verified; one without the disclosure is refused with the reason; a private or
unreachable one goes to the staff spot-check queue, where real clicks on the link verify it and staff decide
(audited). Also what can be paid there (participation fee and clicks only: no reach, no engagement) and the
phone-friendly share page."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.forms import CampaignForm
from campaigns.matching.selectors import _account_value, offer_pay_terms
from campaigns.metrics.services import retention_check_due
from campaigns.models import ContentPiece, ProofVerifiedBy, PublicationState, SharePublication
from campaigns.pricing import budget_estimate
from campaigns.publishing import services
from campaigns.publishing.errors import ProofRefused
from campaigns.publishing.proof import (
    proof_review_decide,
    proof_review_list,
    proof_submit,
    proof_verify,
    proofs_verify_by_clicks_due,
)
from campaigns.selectors import network_reach_for
from campaigns.tracking.capture import ClickEvent, visitor_hash
from campaigns.tracking.services import clicks_record, tracking_link_get_or_create
from linkilike.models import AuditEvent
from networks.models import ConnectedAccount
from tests.doubles.publishing import ready_share
from tests.factories.accounts import UserFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db

TIKTOK_POST = "https://www.tiktok.com/@lena.roasts/video/7301234567890123456"
LINKEDIN_POST = "https://www.linkedin.com/posts/lena-roasts_coffee-activity-7301234567890123456-AbCd/"
INSTAGRAM_POST = "https://www.instagram.com/p/C1a2B3c4D5e/"
FACEBOOK_POST = "https://www.facebook.com/share/p/1AbCdEfGh/"


class NetworkPages(BaseHTTPRequestHandler):
    """The networks' public reads: ``answers[path-with-query] = (status, content type, body)``."""

    answers: ClassVar[dict[str, tuple[int, str, str]]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        status, content_type, body = self.answers.get(self.path, (404, "text/plain", "not found"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def network_site(settings: Any) -> Iterator[str]:
    NetworkPages.answers = {}
    server = HTTPServer(("127.0.0.1", 0), NetworkPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TIKTOK_WEB_URL = base
    settings.LINKEDIN_WEB_URL = base
    settings.SITE_URL = "https://linkilike.test"
    yield base
    server.shutdown()
    server.server_close()


def waiting_share(network: str, handle: str = "@lena.roasts", **fields: Any) -> SharePublication:
    influencer = InfluencerProfileFactory()
    account = ConnectedAccountFactory(
        influencer=influencer,
        network=network,
        handle=handle,
        instance_url="https://example.invalid",
        profile_url="",
        access_token="",
        refresh_token="",
    )
    publication = services.share_publication_schedule(share=ready_share(account=account, **fields))
    assert publication is not None
    assert publication.state == PublicationState.NEEDS_PROOF
    return publication


def link_of(publication: SharePublication) -> str:
    return next(word for word in publication.posted_text.split() if "/r/" in word)


def oembed(post: str, *, author: str, title: str) -> tuple[int, str, str]:
    body = {
        "version": "1.0",
        "type": "video",
        "title": title,
        "author_url": f"https://www.tiktok.com/@{author}",
        "author_name": "Lena",
        "author_unique_id": author,
        "html": f'<blockquote class="tiktok-embed" cite="{post}"><section>{title}</section></blockquote>',
    }
    return 200, "application/json", json.dumps(body)


def oembed_path(post: str) -> str:
    return "/oembed?" + urlencode({"url": post})


def submit(publication: SharePublication, url: str) -> SharePublication | None:
    proof_submit(publication=publication, influencer=publication.share.influencer, url=url)
    return proof_verify(publication_id=publication.pk)


# --- the permalink each network gives out --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "handle", "url", "problem"),
    [
        ("tiktok", "@lena.roasts", TIKTOK_POST, ""),
        ("tiktok", "@lena.roasts", TIKTOK_POST + "?is_from_webapp=1&sender_device=pc", ""),
        ("tiktok", "@lena.roasts", "https://vm.tiktok.com/ZMh1a2b3c/", ""),
        ("tiktok", "@lena.roasts", "https://www.tiktok.com/@someone/video/7301234567890123456", "not from"),
        ("tiktok", "@lena.roasts", "https://www.tiktok.com/@lena.roasts", "single post"),
        ("instagram_personal", "@lena.roasts", INSTAGRAM_POST, ""),
        ("instagram_personal", "@lena.roasts", "https://www.instagram.com/reel/C1a2B3c4D5e/?igsh=abc", ""),
        ("instagram_personal", "@lena.roasts", "https://www.instagram.com/lena.roasts/", "single post"),
        ("facebook_profile", "@lena.roasts", FACEBOOK_POST, ""),
        ("facebook_profile", "@lena.roasts", "https://www.facebook.com/lena.roasts/posts/pfbid02abcDEF", ""),
        ("facebook_profile", "@lena.roasts", "https://www.facebook.com/permalink.php?story_fbid=123456&id=98765", ""),
        ("facebook_profile", "@lena.roasts", "https://www.facebook.com/someone.else/posts/123456789", "not from"),
        ("linkedin_profile", "@lena-roasts", LINKEDIN_POST, ""),
        (
            "linkedin_profile",
            "@lena-roasts",
            "https://www.linkedin.com/feed/update/urn:li:activity:7301234567890123456/",
            "",
        ),
        ("linkedin_profile", "@lena-roasts", "https://www.linkedin.com/in/lena-roasts/", "single post"),
        ("linkedin_profile", "@lena-roasts", "https://evil.example/posts/x", "Paste the address of your post on"),
    ],
)
def test_each_network_accepts_its_own_post_addresses(network: str, handle: str, url: str, problem: str) -> None:
    publication = waiting_share(network, handle=handle)
    if problem:
        with pytest.raises(ProofRefused, match=problem):
            proof_submit(publication=publication, influencer=publication.share.influencer, url=url)
    else:
        submitted = proof_submit(publication=publication, influencer=publication.share.influencer, url=url)
        assert submitted.state == PublicationState.PROOF_SUBMITTED


# --- TikTok: the public oEmbed endpoint ----------------------------------------------------------------------


def test_tiktok_a_public_video_with_disclosure_and_link_is_verified(network_site: str) -> None:
    publication = waiting_share("tiktok")
    NetworkPages.answers[oembed_path(TIKTOK_POST)] = oembed(
        TIKTOK_POST, author="lena.roasts", title=publication.posted_text
    )
    result = submit(publication, TIKTOK_POST)
    assert result is not None
    assert (result.state, result.proof_verified_by) == (PublicationState.PUBLISHED, ProofVerifiedBy.EMBED)
    assert result.external_url == TIKTOK_POST


def test_tiktok_a_video_without_the_disclosure_is_refused_with_the_reason(network_site: str) -> None:
    publication = waiting_share("tiktok")
    caption = publication.posted_text.replace("#ad", "").strip()
    NetworkPages.answers[oembed_path(TIKTOK_POST)] = oembed(TIKTOK_POST, author="lena.roasts", title=caption)
    result = submit(publication, TIKTOK_POST)
    assert result is not None
    assert result.state == PublicationState.NEEDS_PROOF
    assert result.error_code == "proof_refused"
    assert "does not show the disclosure #ad" in result.last_error


def test_tiktok_someone_elses_video_is_refused(network_site: str) -> None:
    publication = waiting_share("tiktok")
    short = "https://vm.tiktok.com/ZMh1a2b3c/"
    NetworkPages.answers[oembed_path(short)] = oembed(short, author="someone", title=publication.posted_text)
    result = submit(publication, short)
    assert result is not None
    assert result.state == PublicationState.NEEDS_PROOF
    assert "not from @lena.roasts" in result.last_error


def test_tiktok_a_private_video_goes_to_the_staff_queue(network_site: str) -> None:
    publication = waiting_share("tiktok")
    # TikTok's oEmbed answers 400 for a private or removed video: it cannot tell us which.
    NetworkPages.answers[oembed_path(TIKTOK_POST)] = (400, "application/json", '{"code":400,"message":"x"}')
    result = submit(publication, TIKTOK_POST)
    assert result is not None
    assert result.state == PublicationState.PROOF_REVIEW
    assert "is it public?" in result.last_error
    assert result in proof_review_list()


# --- LinkedIn: the public post page ---------------------------------------------------------------------------


def linkedin_page(text: str, author: str = "lena-roasts") -> tuple[int, str, str]:
    body = f'<html><a href="https://www.linkedin.com/in/{author}">Lena</a><p>{text}</p></html>'
    return 200, "text/html; charset=utf-8", body


def test_linkedin_a_public_post_with_disclosure_and_link_is_verified(network_site: str) -> None:
    publication = waiting_share("linkedin_profile", handle="@lena-roasts")
    NetworkPages.answers["/posts/lena-roasts_coffee-activity-7301234567890123456-AbCd/"] = linkedin_page(
        publication.posted_text
    )
    result = submit(publication, LINKEDIN_POST)
    assert result is not None
    assert (result.state, result.proof_verified_by) == (PublicationState.PUBLISHED, ProofVerifiedBy.PAGE)


@pytest.mark.parametrize(
    ("what", "answer", "state", "reason"),
    [
        ("no disclosure", "no-disclosure", PublicationState.NEEDS_PROOF, "disclosure #ad"),
        ("no link", "no-link", PublicationState.NEEDS_PROOF, "campaign link"),
        ("deleted", None, PublicationState.NEEDS_PROOF, "404"),
        ("login wall", "login", PublicationState.PROOF_REVIEW, "is it public?"),
        ("server error", "error", PublicationState.PROOF_REVIEW, "is it public?"),
    ],
)
def test_linkedin_refuses_with_the_reason_or_queues_for_staff(
    network_site: str, what: str, answer: str | None, state: str, reason: str
) -> None:
    publication = waiting_share("linkedin_profile", handle="@lena-roasts")
    text, link = publication.posted_text, link_of(publication)
    answers = {
        "no-disclosure": linkedin_page(text.replace("#ad", "")),
        "no-link": linkedin_page(text.replace(link, "")),
        "login": (200, "text/html", "<html><h1>Sign in to see this post</h1></html>"),
        "error": (503, "text/html", "busy"),
    }
    if answer is not None:
        NetworkPages.answers["/posts/lena-roasts_coffee-activity-7301234567890123456-AbCd/"] = answers[answer]
    result = submit(publication, LINKEDIN_POST)
    assert result is not None
    assert result.state == state, what
    assert reason in result.last_error


def test_an_unreachable_network_goes_to_the_staff_queue(settings: Any) -> None:
    settings.LINKEDIN_WEB_URL = "http://127.0.0.1:9"  # nothing listens there
    publication = waiting_share("linkedin_profile", handle="@lena-roasts")
    result = submit(publication, LINKEDIN_POST)
    assert result is not None
    assert result.state == PublicationState.PROOF_REVIEW


# --- Facebook and Instagram: nothing public answers; clicks and staff ------------------------------------------


def click(publication: SharePublication, *, ip: str, bot: bool = False, at: Any = None) -> None:
    link = tracking_link_get_or_create(share=publication.share)
    moment = (at or timezone.now()).timestamp()
    clicks_record(
        events=[
            ClickEvent(
                event_id=uuid.uuid4().hex,
                link_id=link.pk,
                occurred_at=moment,
                ip_hash=visitor_hash(ip),
                ua_hash="ua",
                ua_family="Chrome",
                referrer_host="l.instagram.com",
                is_head=False,
                is_prefetch=False,
                is_bot=bot,
            )
        ]
    )


@pytest.mark.parametrize(
    ("network", "post"), [("instagram_personal", INSTAGRAM_POST), ("facebook_profile", FACEBOOK_POST)]
)
def test_meta_profiles_wait_for_staff_and_real_clicks_from_others_verify_them(
    settings: Any, network: str, post: str
) -> None:
    settings.PROOF_CLICKS_TO_VERIFY = 3
    publication = waiting_share(network)
    proof_submit(
        publication=publication, influencer=publication.share.influencer, url=post, visitor=visitor_hash("10.0.0.7")
    )
    result = proof_verify(publication_id=publication.pk)
    assert result is not None
    assert result.state == PublicationState.PROOF_REVIEW
    assert "lets no app read posts" in result.last_error

    click(publication, ip="10.0.0.7")  # her own address
    click(publication, ip="10.0.0.7")
    click(publication, ip="198.51.100.1", bot=True)  # a link preview
    click(publication, ip="198.51.100.2")
    click(publication, ip="198.51.100.3")
    assert proofs_verify_by_clicks_due() == 0  # two real clicks from others so far
    click(publication, ip="198.51.100.4")
    assert proofs_verify_by_clicks_due() == 1
    publication.refresh_from_db()
    assert (publication.state, publication.proof_verified_by) == (PublicationState.PUBLISHED, ProofVerifiedBy.CLICKS)
    assert publication in proof_review_list()  # still to be spot-checked


def test_clicks_before_the_link_was_pasted_do_not_verify(settings: Any) -> None:
    settings.PROOF_CLICKS_TO_VERIFY = 1
    publication = waiting_share("instagram_personal")
    click(publication, ip="198.51.100.9", at=timezone.now() - timedelta(hours=2))
    submit(publication, INSTAGRAM_POST)
    assert proofs_verify_by_clicks_due() == 0


# --- the staff spot-check ---------------------------------------------------------------------------------------


def test_staff_verify_a_waiting_post_audited() -> None:
    staff = UserFactory(is_staff=True)
    publication = waiting_share("facebook_profile")
    submit(publication, FACEBOOK_POST)
    result = proof_review_decide(publication_id=publication.pk, staff=staff, verified=True)
    assert (result.state, result.proof_verified_by) == (PublicationState.PUBLISHED, ProofVerifiedBy.STAFF)
    assert result.proof_reviewed_by == staff
    event = AuditEvent.objects.get(action="share.proof_verified")
    assert event.actor_id == staff.pk
    assert event.after["url"] == FACEBOOK_POST


def test_staff_refuse_with_a_reason_the_influencer_sees() -> None:
    staff = UserFactory(is_staff=True)
    publication = waiting_share("instagram_personal")
    submit(publication, INSTAGRAM_POST)
    with pytest.raises(ProofRefused, match="Say why"):
        proof_review_decide(publication_id=publication.pk, staff=staff, verified=False)
    result = proof_review_decide(
        publication_id=publication.pk, staff=staff, verified=False, reason="The post is not public."
    )
    assert result.state == PublicationState.NEEDS_PROOF
    assert result.last_error == "The post is not public."
    assert AuditEvent.objects.get(action="share.proof_refused").reason == "The post is not public."


def test_a_post_verified_by_clicks_that_staff_refuse_is_removed(settings: Any) -> None:
    settings.PROOF_CLICKS_TO_VERIFY = 1
    staff = UserFactory(is_staff=True)
    publication = waiting_share("instagram_personal")
    submit(publication, INSTAGRAM_POST)
    click(publication, ip="198.51.100.5")
    assert proofs_verify_by_clicks_due() == 1
    result = proof_review_decide(
        publication_id=publication.pk, staff=staff, verified=False, reason="Deleted the same day."
    )
    assert result.state == PublicationState.REMOVED
    assert result.last_error == "Deleted the same day."


def test_a_clicks_verified_post_is_kept_only_once_staff_saw_it_after_the_retention_period(settings: Any) -> None:
    settings.PROOF_CLICKS_TO_VERIFY = 1
    staff = UserFactory(is_staff=True)
    publication = waiting_share("facebook_profile")
    submit(publication, FACEBOOK_POST)
    click(publication, ip="198.51.100.6")
    proofs_verify_by_clicks_due()
    later = timezone.now() + timedelta(days=8)
    retention_check_due(now=later)  # nothing public to fetch: neither removed nor kept
    publication.refresh_from_db()
    assert (publication.state, publication.retained_at) == (PublicationState.PUBLISHED, None)
    result = proof_review_decide(publication_id=publication.pk, staff=staff, verified=True, now=later)
    assert result.retained_at == later


def test_the_admin_spot_check_actions(settings: Any) -> None:
    settings.STAFF_MFA_REQUIRED = False
    admin_client = Client()
    admin_client.force_login(UserFactory(is_staff=True, is_superuser=True))
    publication = waiting_share("facebook_profile")
    submit(publication, FACEBOOK_POST)
    assert "post to spot-check" in admin_client.get(reverse("admin:index")).content.decode()
    url = reverse("admin:campaigns_sharepublication_changelist")
    assert FACEBOOK_POST in admin_client.get(url + "?state__exact=proof_review").content.decode()
    page = admin_client.post(url, {"action": "spot_check_refused", "_selected_action": [publication.pk]})
    assert page.status_code == 200
    assert "Reason (the influencer sees it)" in page.content.decode()
    admin_client.post(
        url, {"action": "spot_check_refused", "_selected_action": [publication.pk], "reason": "Private account."}
    )
    publication.refresh_from_db()
    assert (publication.state, publication.last_error) == (PublicationState.NEEDS_PROOF, "Private account.")


# --- what can be paid: the participation fee and clicks, never reach or engagement ------------------------------


def test_estimates_count_no_reach_and_no_engagement_on_these_networks() -> None:
    reach = network_reach_for(networks=["tiktok", "instagram_personal"])
    assert reach.clicks_only == ("TikTok", "Instagram (personal account)")
    estimate = budget_estimate(budget_minor=100_000, platform_fee_bps=1500, cpe_minor=10, cpc_minor=20, reach=reach)
    assert (estimate.reach, estimate.engagements) == (0, 0)
    assert estimate.clicks > 0
    publication = waiting_share("tiktok")
    campaign = publication.share.campaign
    campaign.cpm_minor, campaign.cpe_minor, campaign.cpc_minor = 2000, 10, 0
    assert _account_value(campaign=campaign, network="tiktok", followers=10_000, which=1) == 0
    campaign.cpc_minor = 20
    assert _account_value(campaign=campaign, network="tiktok", followers=10_000, which=1) == 20 * 100


def test_the_campaign_form_refuses_reach_and_engagement_prices_for_these_networks_only() -> None:
    base = {"name": "Roast", "currency": "EUR", "budget_minor": "100", "networks": ["tiktok", "linkedin_profile"]}
    form = CampaignForm(data={**base, "cpm_minor": "5", "cpe_minor": "0.10", "cpc_minor": "0.10"})
    assert not form.is_valid()
    assert "pay only the participation fee and clicks" in str(form.errors["cpm_minor"])
    assert "cpe_minor" in form.errors
    assert CampaignForm(data={**base, "cpc_minor": "0.10"}).is_valid(), "clicks are fine"
    mixed = CampaignForm(data={**base, "networks": ["tiktok", "mastodon"], "cpe_minor": "0.10"})
    assert mixed.is_valid(), mixed.errors


def test_the_offer_says_what_pays_on_these_networks() -> None:
    publication = waiting_share("tiktok")
    offer = publication.share.offer
    offer.campaign.networks = ["tiktok", "mastodon"]
    lines = offer_pay_terms(offer=offer)
    assert any(
        "On TikTok (you post, we verify) only the participation fee and clicks are paid." in line for line in lines
    )


# --- the phone-friendly share page -----------------------------------------------------------------------------


def test_the_share_page_has_the_caption_to_copy_the_image_and_the_share_button() -> None:
    from django.core.files.base import ContentFile

    from tests.factories.campaigns import ContentPieceFactory

    publication = waiting_share("linkedin_profile", handle="@lena-roasts")
    share = publication.share
    content = cast(ContentPiece, ContentPieceFactory(campaign=share.campaign, target_url="https://shop.example/roast"))
    content.media.save("roast.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"0" * 64), save=False)
    content.media_kind = "image"
    content.save()
    share.content = content
    share.save(update_fields=["content"])
    client = Client()
    client.force_login(share.influencer.user)
    page = client.get(reverse("influencers:share-post", kwargs={"pk": share.pk}), REMOTE_ADDR="203.0.113.8")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="share-post-caption"' in html
    assert "#ad" in html
    assert 'data-copy-target="share-post-caption"' in html
    assert "js/share-post.js" in html
    assert "<script>" not in html  # no inline script (CSP)
    assert "https://www.linkedin.com/sharing/share-offsite/?url=" in html
    assert reverse("influencers:share-post-image", kwargs={"pk": share.pk}) in html
    publication.refresh_from_db()
    assert publication.proof_own_visitors == [visitor_hash("203.0.113.8")]
    image = client.get(reverse("influencers:share-post-image", kwargs={"pk": share.pk}))
    assert image.status_code == 200
    assert image["Content-Disposition"].startswith("attachment")
    assert image["X-Content-Type-Options"] == "nosniff"
    other = Client()
    other.force_login(InfluencerProfileFactory().user)
    assert other.get(reverse("influencers:share-post", kwargs={"pk": share.pk})).status_code == 404


def test_tiktok_and_instagram_have_no_share_button_only_text_and_image() -> None:
    publication = waiting_share("tiktok")
    client = Client()
    client.force_login(publication.share.influencer.user)
    html = client.get(reverse("influencers:share-post", kwargs={"pk": publication.share.pk})).content.decode()
    assert 'id="share-post-intent"' not in html
    assert "Open the TikTok app" in html


def test_accounts_are_connected_like_others_usable_for_matching() -> None:
    publication = waiting_share("tiktok")
    account = ConnectedAccount.objects.get(pk=publication.share.connected_account_id)
    assert account.is_usable
