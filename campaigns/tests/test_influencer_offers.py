"""The offers inbox and the offer page, used as an influencer would: read, edit the caption, accept, decline."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.influencer.selectors_offers import offer_caption_initial, offer_variant_pick
from campaigns.matching.selectors import SHARE_LINK_PLACEHOLDER
from campaigns.models import CampaignStatus, CaptionStatus, Offer, OfferStatus, Share, ShareStatus
from networks.models import AccountStatus
from tests.factories.campaigns import MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


def _offer(*, requires_caption_approval: bool = False, **campaign: Any) -> Offer:
    defaults: dict[str, Any] = {
        "status": CampaignStatus.APPROVED,
        "networks": ["mastodon", "bluesky"],
        "cpm_minor": 500,
        "cpe_minor": 10,
        "cpc_minor": None,
        "per_share_cap_minor": 4000,
        "requires_caption_approval": requires_caption_approval,
        "brief": "Share our autumn roast if you love slow mornings.",
    }
    defaults.update(campaign)
    influencer = InfluencerProfileFactory(languages=["en"])
    match = MatchFactory(campaign=ready_campaign(**defaults), influencer=influencer, status="approved")
    return Offer.objects.create(
        match=match, campaign=match.campaign, influencer=influencer, expires_at=match.campaign.ends_at
    )


def _accounts(offer: Offer, count: int = 2) -> list[int]:
    return [
        ConnectedAccountFactory(influencer=offer.influencer, network="mastodon", followers_count=1000 + n).pk
        for n in range(count)
    ]


def _client(offer: Offer) -> Client:
    client = Client()
    client.force_login(offer.influencer.user)
    return client


def _caption(offer: Offer) -> str:
    return offer_caption_initial(offer=offer, variant=offer_variant_pick(offer=offer))


def _accept(client: Client, offer: Offer, **data: Any) -> Any:
    body = {"when": "now", "caption": _caption(offer), **data}
    return client.post(reverse("influencers:offer-detail", kwargs={"pk": offer.pk}), body)


def test_inbox_shows_the_offer_with_brand_pay_terms_and_deadline() -> None:
    offer = _offer()
    other = _offer(name="Someone else's campaign")

    response = _client(offer).get(reverse("influencers:offers"))

    page = response.content.decode()
    assert response.status_code == 200
    assert offer.campaign.name in page
    assert offer.campaign.brand.name in page
    assert "You earn €5.00 per 1,000 people reached" in page
    assert "€0.10 per engagement" in page
    assert "up to €40.00 for this share" in page
    assert "Open until the end of" in page
    assert other.campaign.name not in page


def test_inbox_tabs_filter_by_status() -> None:
    offer = _offer(name="Declined one")
    Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.DECLINED)
    client = _client(offer)

    assert "Declined one" not in client.get(reverse("influencers:offers")).content.decode()
    assert "Declined one" in client.get(reverse("influencers:offers") + "?tab=declined").content.decode()


def test_offer_page_shows_brief_content_estimate_and_explains_unusable_accounts() -> None:
    offer = _offer()
    _accounts(offer, 1)
    ConnectedAccountFactory(influencer=offer.influencer, network="bluesky", status=AccountStatus.NEEDS_RECONSENT)
    ConnectedAccountFactory(influencer=offer.influencer, network="sandbox", status=AccountStatus.REVOKED)
    mastodon_only = _offer(networks=["bluesky"])
    ConnectedAccountFactory(influencer=mastodon_only.influencer, network="mastodon")

    page = _client(offer).get(reverse("influencers:offer-detail", kwargs={"pk": offer.pk})).content.decode()
    other_page = (
        _client(mastodon_only)
        .get(reverse("influencers:offer-detail", kwargs={"pk": mastodon_only.pk}))
        .content.decode()
    )

    assert "Share our autumn roast" in page
    assert "Our new autumn roast is here." in page  # the brand's text variant
    assert "Estimate: about €" in page
    assert page.count("Needs reconnecting") == 1  # the bluesky account
    assert "The sandbox is for demo campaigns only" in page  # the sandbox account, on a real brand's offer
    assert "Not targeted by this campaign" in other_page
    assert "None of your accounts can take this campaign." in other_page


def test_accept_with_two_accounts_creates_two_shares_listed_on_the_result_page() -> None:
    offer = _offer()
    first, second = _accounts(offer)
    client = _client(offer)

    response = _accept(client, offer, accounts=[first, second])

    assert response.status_code == 302
    shares = Share.objects.filter(offer=offer)
    assert sorted(shares.values_list("connected_account_id", flat=True)) == [first, second]
    assert set(shares.values_list("status", flat=True)) == {ShareStatus.READY}
    page = client.get(response["Location"]).content.decode()
    assert "2 shares created" in page
    # Each share with its publishing state (queued at once; ``share_state_get``), not a stale "ready".
    assert page.count('id="share-state-') == 2


def test_scheduled_time_is_read_in_the_influencers_time_zone() -> None:
    offer = _offer()
    (account,) = _accounts(offer, 1)
    # The zone of the influencer's profile (set on onboarding from the browser or the country).
    offer.influencer.time_zone = "America/New_York"
    offer.influencer.save(update_fields=["time_zone"])
    local = timezone.localtime(timezone.now() + timedelta(days=2)).replace(tzinfo=None, second=0, microsecond=0)

    _accept(
        _client(offer),
        offer,
        accounts=[account],
        when="later",
        scheduled_at=local.strftime("%Y-%m-%dT%H:%M"),
    )

    share = Share.objects.get(offer=offer)
    assert share.scheduled_at is not None
    new_york = share.scheduled_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert new_york.replace(tzinfo=None) == local


def test_edited_caption_waits_for_the_brand_when_it_approves_captions() -> None:
    offer = _offer(requires_caption_approval=True)
    (account,) = _accounts(offer, 1)
    client = _client(offer)

    response = _accept(client, offer, accounts=[account], caption=_caption(offer) + " Love it!")

    share = Share.objects.get(offer=offer)
    assert share.caption_status == CaptionStatus.PENDING_APPROVAL
    assert "Love it!" in share.caption_text
    assert "Awaiting caption approval" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("case", "edit", "message"),
    [
        ("disclosure removed", lambda text: text.replace("#ad", ""), "Keep the disclosure #ad"),
        ("link removed", lambda text: text.replace(SHARE_LINK_PLACEHOLDER, ""), "Keep the link"),
        ("too long", lambda text: text + " word" * 120, "Too long for Mastodon"),
    ],
)
def test_caption_breaking_the_rules_is_refused_with_a_message_and_the_input_kept(
    case: str, edit: Any, message: str
) -> None:
    offer = _offer()
    (account,) = _accounts(offer, 1)
    edited = edit(_caption(offer)) + " MYWORDS"

    response = _accept(_client(offer), offer, accounts=[account], caption=edited)

    page = response.content.decode()
    assert response.status_code == 400, case
    assert message in page
    assert "Nothing was accepted yet" in page
    assert "MYWORDS" in page
    assert re.search(rf'value="{account}"\s+id="account-{account}"\s+checked', page)
    assert not Share.objects.filter(offer=offer).exists()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.NEW


def test_every_problem_is_shown_at_once() -> None:
    offer = _offer()
    _accounts(offer, 1)

    response = _accept(_client(offer), offer, when="later", caption=_caption(offer).replace("#ad", ""))

    page = response.content.decode()
    assert response.status_code == 400
    assert "Pick at least one account to share to." in page
    assert "Pick the date and time to share" in page
    assert "Keep the disclosure #ad" in page


def test_a_time_in_the_past_is_refused() -> None:
    offer = _offer()
    (account,) = _accounts(offer, 1)

    response = _accept(_client(offer), offer, accounts=[account], when="later", scheduled_at="2020-01-01T10:00")

    assert response.status_code == 400
    assert "This time has passed" in response.content.decode()
    assert not Share.objects.exists()


def test_an_account_that_is_not_usable_cannot_be_posted() -> None:
    offer = _offer()
    broken = ConnectedAccountFactory(influencer=offer.influencer, network="mastodon", status=AccountStatus.REVOKED)

    response = _accept(_client(offer), offer, accounts=[broken.pk])

    assert response.status_code == 400
    assert not Share.objects.exists()


def test_update_preview_without_javascript_keeps_everything_and_saves_nothing() -> None:
    offer = _offer()
    (account,) = _accounts(offer, 1)

    response = _accept(_client(offer), offer, accounts=[account], caption=_caption(offer) + " PREVIEWME", _preview="1")

    assert response.status_code == 200
    assert response.content.decode().count("PREVIEWME") >= 2  # the editor and the preview
    assert not Share.objects.exists()


def test_live_preview_partial_checks_the_rules() -> None:
    offer = _offer()
    _accounts(offer, 1)

    response = _client(offer).post(
        reverse("influencers:offer-preview", kwargs={"pk": offer.pk}),
        {"caption": "no disclosure, no link"},
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="caption-preview"' in page
    assert "Keep the disclosure #ad" in page
    assert "Mastodon" in page


def test_decline_records_the_reason() -> None:
    offer = _offer()
    client = _client(offer)
    url = reverse("influencers:offer-decline", kwargs={"pk": offer.pk})

    assert "Why not?" in client.get(url).content.decode()
    response = client.post(url, {"reason": "Not my kind of coffee"})

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert offer.decline_reason == "Not my kind of coffee"
    assert (
        "Not my kind of coffee"
        in client.get(reverse("influencers:offer-detail", kwargs={"pk": offer.pk})).content.decode()
    )


def test_an_accepted_offer_cannot_be_accepted_again() -> None:
    offer = _offer()
    first, second = _accounts(offer)
    client = _client(offer)
    _accept(client, offer, accounts=[first])

    response = _accept(client, offer, accounts=[second])

    assert response.status_code == 302
    assert Share.objects.filter(offer=offer).count() == 1


def test_home_shows_the_latest_new_offers_or_the_empty_state() -> None:
    offer = _offer(name="Fresh roast")
    client = _client(offer)

    assert "Fresh roast" in client.get(reverse("influencers:home")).content.decode()
    Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.EXPIRED)
    page = client.get(reverse("influencers:home")).content.decode()
    assert "Fresh roast" not in page
    assert "No offers yet" in page


def test_offer_of_an_ended_campaign_shows_as_closed_without_the_accept_form() -> None:
    offer = _offer()
    _accounts(offer, 1)
    offer.campaign.ends_at = timezone.now() - timedelta(minutes=1)
    offer.campaign.save()

    page = _client(offer).get(reverse("influencers:offer-detail", kwargs={"pk": offer.pk})).content.decode()

    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert "This offer has closed" in page
    assert "Accept offer" not in page
