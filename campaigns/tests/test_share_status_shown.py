"""The share status people see comes from the publishing state (issue "What people see", 6).

``Share.status`` stops at READY: the publishing pipeline keeps everything after that on the
``SharePublication``. The brand's Influencers tab and the influencer's offer page read ``Share.status`` and
said "waiting to be published" / "Ready to publish" for posts published days before. Both now show
``campaigns.publishing.selectors.share_state_get``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandRole
from campaigns.models import CaptionStatus, PublicationState, Share, SharePublication, ShareStatus
from campaigns.publishing.selectors import share_state_get
from campaigns.selectors_captions import campaign_influencer_list
from tests.factories.brands import MembershipFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db


def _share_with_publication(state: str, **publication: object) -> Share:
    share: Share = ShareFactory.create(status=ShareStatus.READY)
    SharePublication.objects.create(share=share, state=state, idempotency_key=secrets.token_hex(16), **publication)
    return Share.objects.select_related("publication", "connected_account").get(pk=share.pk)


def _published_share() -> Share:
    return _share_with_publication(
        PublicationState.PUBLISHED,
        external_id="109",
        external_url="https://mastodon.example/@lena/109",
        published_at=timezone.now() - timedelta(days=3),
    )


def _brand_tab(share: Share) -> str:
    client = Client()
    client.force_login(MembershipFactory(brand=share.campaign.brand, role=BrandRole.ANALYST).user)
    url = reverse("campaigns:detail", args=[share.campaign.brand.slug, share.campaign.pk]) + "?tab=influencers"
    return client.get(url).content.decode()


def _offer_page(share: Share) -> str:
    client = Client()
    client.force_login(share.influencer.user)
    return client.get(reverse("influencers:offer-detail", kwargs={"pk": share.offer_id})).content.decode()


@pytest.mark.parametrize(
    ("state", "fields", "label"),
    [
        (PublicationState.PUBLISHED, {"published_at": timezone.now()}, "Published"),
        (PublicationState.PUBLISHING, {}, "Publishing"),
        (PublicationState.QUEUED, {}, "Queued"),
        (PublicationState.FAILED, {"last_error": "The network refused the text."}, "Failed"),
        (PublicationState.REMOVED, {"removed_at": timezone.now()}, "Removed from the network"),
        (PublicationState.UNKNOWN, {"last_error": "No answer."}, "Outcome unknown (staff are checking)"),
    ],
)
def test_the_state_people_see_is_the_publication_state(state: str, fields: dict[str, object], label: str) -> None:
    share = _share_with_publication(state, **fields)

    view = share_state_get(share=share)

    assert view.state == state
    assert view.label == label
    if state in (PublicationState.FAILED, PublicationState.UNKNOWN):
        assert view.reason == fields["last_error"]
    if state == PublicationState.REMOVED:
        assert view.removed_at == fields["removed_at"]


def test_before_publishing_the_caption_and_schedule_decide() -> None:
    share: Share = ShareFactory.create(status=ShareStatus.READY)
    assert share_state_get(share=share).label == "Ready to publish"
    share.scheduled_at = timezone.now() + timedelta(days=1)
    assert share_state_get(share=share).scheduled_at == share.scheduled_at
    share.status = ShareStatus.AWAITING_CAPTION_APPROVAL
    share.caption_status = CaptionStatus.PENDING_APPROVAL
    assert share_state_get(share=share).label == "Awaiting caption approval"
    share.caption_status = CaptionStatus.CHANGES_REQUESTED
    assert share_state_get(share=share).label == "Changes requested"


def test_brand_influencers_tab_shows_a_published_share_as_published() -> None:
    share = _published_share()

    page = _brand_tab(share)

    assert "waiting to be published" not in page.lower()
    assert "Published" in page
    assert share.publication.external_url in page
    # The influencer's row is "Sharing" once a post is out, not "Accepted".
    (row,) = campaign_influencer_list(campaign=share.campaign)
    assert row.stage == "sharing"


def test_brand_influencers_tab_shows_why_a_share_failed() -> None:
    share = _share_with_publication(PublicationState.FAILED, last_error="The network refused the text.")

    page = _brand_tab(share)

    assert "Failed" in page
    assert "The network refused the text." in page


def test_offer_page_shows_a_published_share_as_published() -> None:
    share = _published_share()

    page = _offer_page(share)

    assert "Ready to publish" not in page
    assert "Published" in page
    assert share.publication.external_url in page


def test_offer_page_shows_a_removed_share_as_removed() -> None:
    share = _share_with_publication(PublicationState.REMOVED, removed_at=timezone.now())

    page = _offer_page(share)

    assert "Ready to publish" not in page
    assert "Removed from the network" in page


def test_both_pages_read_one_selector_for_a_share_not_published_yet() -> None:
    share: Share = ShareFactory.create(status=ShareStatus.READY)

    assert "Ready to publish" in _offer_page(share)
    assert "Ready to publish" in _brand_tab(share)
