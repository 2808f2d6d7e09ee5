"""Offers and shares: approve -> offer + email, accept with caption rules, decline, expiry, caption approval."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.errors import CaptionRefused, MatchingError, MatchTransitionError, OfferAccountInvalid, OfferNotOpen
from campaigns.matching.selectors import (
    SHARE_LINK_PLACEHOLDER,
    offer_estimate_get,
    offer_get_for_influencer,
    share_caption_default,
)
from campaigns.matching.services import (
    match_approve,
    match_reject,
    offer_accept,
    offer_decline,
    offer_expire_due,
    offer_expire_if_due,
    share_caption_approve,
    share_caption_request_changes,
    share_caption_resubmit,
)
from campaigns.models import (
    CampaignStatus,
    CaptionStatus,
    MatchStatus,
    ModerationAction,
    Offer,
    OfferStatus,
    ShareStatus,
)
from networks.models import AccountStatus
from tests.factories.campaigns import MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(django_capture_on_commit_callbacks: Any) -> Offer:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon", "bluesky"], cpm_minor=600)
    influencer = InfluencerProfileFactory(languages=["en"])
    ConnectedAccountFactory(influencer=influencer, network="mastodon", followers_count=2000)
    ConnectedAccountFactory(influencer=influencer, network="bluesky", followers_count=800)
    match = MatchFactory(campaign=campaign, influencer=influencer)
    with django_capture_on_commit_callbacks(execute=True):
        return match_approve(match=match, decided_by=None)


def accounts(offer: Offer) -> list[int]:
    return list(offer.influencer.connected_accounts.order_by("pk").values_list("pk", flat=True))


def test_approve_creates_offer_emails_influencer_and_audits(django_capture_on_commit_callbacks: Any) -> None:
    match = MatchFactory()
    ConnectedAccountFactory(influencer=match.influencer, network="mastodon", followers_count=2000)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        offer = match_approve(match=match, decided_by=None, reason="great fit")

    match.refresh_from_db()
    assert match.status == MatchStatus.APPROVED
    assert offer.status == OfferStatus.NEW
    assert offer.expires_at == match.campaign.ends_at
    assert [m.to for m in mail.outbox] == [[match.influencer.user.email]]
    assert match.campaign.name in mail.outbox[0].subject
    assert "Estimate: about" in mail.outbox[0].body
    assert f"/offers/{offer.pk}/" in mail.outbox[0].body
    assert "/offers/" in mail.outbox[0].alternatives[0][0]
    offer.refresh_from_db()
    assert offer.notified_at is not None
    actions = set(match.events.values_list("action", flat=True))
    assert actions == {ModerationAction.APPROVED, ModerationAction.OFFER_CREATED}


def test_approving_twice_is_refused() -> None:
    match = MatchFactory()
    match_approve(match=match, decided_by=None)

    with pytest.raises(MatchTransitionError):
        match_approve(match=match, decided_by=None)


def test_reject_needs_a_reason_and_is_audited() -> None:
    match = MatchFactory()
    with pytest.raises(MatchingError):
        match_reject(match=match, decided_by=None, reason="  ")

    match_reject(match=match, decided_by=None, reason="audience mismatch")

    event = match.events.get()
    assert (event.action, event.before, event.after, event.reason) == (
        "rejected",
        "proposed",
        "rejected",
        "audience mismatch",
    )


def test_accept_with_brand_caption_makes_ready_shares(offer: Offer) -> None:
    shares = offer_accept(
        offer=offer, influencer=offer.influencer, account_ids=accounts(offer), caption_text=None, scheduled_at=None
    )

    assert len(shares) == 2
    assert {s.status for s in shares} == {ShareStatus.READY}
    assert {s.caption_status for s in shares} == {CaptionStatus.NOT_REQUIRED}
    caption = shares[0].caption_text
    assert caption.startswith("#ad")
    assert SHARE_LINK_PLACEHOLDER in caption
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    event = offer.events.get(action=ModerationAction.OFFER_ACCEPTED)
    assert event.actor_id == offer.influencer.user_id


def _edit(offer: Offer) -> str:
    return share_caption_default(offer=offer).replace("Our new autumn roast", "I love the new autumn roast")


def test_edited_caption_waits_for_the_brand_when_required(offer: Offer) -> None:
    offer.campaign.requires_caption_approval = True
    offer.campaign.save()
    shares = offer_accept(
        offer=offer,
        influencer=offer.influencer,
        account_ids=accounts(offer),
        caption_text=_edit(offer),
        scheduled_at=timezone.now() + timedelta(hours=2),
    )

    assert {s.caption_status for s in shares} == {CaptionStatus.PENDING_APPROVAL}
    assert {s.status for s in shares} == {ShareStatus.AWAITING_CAPTION_APPROVAL}
    assert "I love the new autumn roast" in shares[0].caption_text

    changed = share_caption_request_changes(share=shares[0], approved_by=None, feedback="Mention the plum")
    assert changed.caption_status == CaptionStatus.CHANGES_REQUESTED
    with pytest.raises(CaptionRefused):
        share_caption_resubmit(share=shares[0], influencer=offer.influencer, caption_text="no disclosure here")
    again = share_caption_resubmit(
        share=shares[0], influencer=offer.influencer, caption_text=_edit(offer) + " Hint of plum!"
    )
    assert again.caption_status == CaptionStatus.PENDING_APPROVAL
    approved = share_caption_approve(share=again, approved_by=None)
    assert (approved.caption_status, approved.status) == (CaptionStatus.APPROVED, ShareStatus.READY)
    approved_second = share_caption_approve(share=shares[1], approved_by=None)
    assert approved_second.status == ShareStatus.READY


CAPTION_REFUSALS = [
    ("disclosure removed", lambda c: c.replace("#ad", ""), "Keep the disclosure #ad"),
    ("link removed", lambda c: c.replace(SHARE_LINK_PLACEHOLDER, ""), "Keep the link"),
    ("too long for Bluesky", lambda c: c + " " + "x" * 300, "Too long for Bluesky"),
]


@pytest.mark.parametrize(("case", "edit", "message"), CAPTION_REFUSALS, ids=[c for c, *_ in CAPTION_REFUSALS])
def test_caption_edit_breaking_the_rules_is_refused(offer: Offer, case: str, edit: Any, message: str) -> None:
    with pytest.raises(CaptionRefused) as refused:
        offer_accept(
            offer=offer,
            influencer=offer.influencer,
            account_ids=accounts(offer),
            caption_text=edit(share_caption_default(offer=offer)),
            scheduled_at=None,
        )

    assert message in str(refused.value), case
    offer.refresh_from_db()
    assert offer.status == OfferStatus.NEW
    assert not offer.shares.exists()


def test_long_caption_fits_mastodon_alone(offer: Offer) -> None:
    mastodon = offer.influencer.connected_accounts.get(network="mastodon")
    caption = share_caption_default(offer=offer) + " " + "x" * 300

    shares = offer_accept(
        offer=offer, influencer=offer.influencer, account_ids=[mastodon.pk], caption_text=caption, scheduled_at=None
    )

    assert len(shares) == 1


ACCOUNT_REFUSALS: list[tuple[str, dict[str, Any]]] = [
    ("someone else's account", {"influencer": None}),
    ("revoked", {"status": AccountStatus.REVOKED}),
    ("untargeted network", {"network": "sandbox_other"}),
]


@pytest.mark.parametrize(("case", "overrides"), ACCOUNT_REFUSALS, ids=[c for c, _ in ACCOUNT_REFUSALS])
def test_accounts_must_be_own_usable_and_targeted(offer: Offer, case: str, overrides: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {"influencer": offer.influencer, "network": "mastodon", **overrides}
    if kwargs["influencer"] is None:
        kwargs.pop("influencer")
    bad = ConnectedAccountFactory(**kwargs)

    with pytest.raises(OfferAccountInvalid):
        offer_accept(
            offer=offer, influencer=offer.influencer, account_ids=[bad.pk], caption_text=None, scheduled_at=None
        )


def test_other_influencer_cannot_accept_or_see(offer: Offer) -> None:
    stranger = InfluencerProfileFactory()

    with pytest.raises(OfferNotOpen):
        offer_accept(
            offer=offer, influencer=stranger, account_ids=accounts(offer), caption_text=None, scheduled_at=None
        )
    with pytest.raises(OfferNotOpen):
        offer_decline(offer=offer, influencer=stranger, reason="")
    with pytest.raises(Offer.DoesNotExist):
        offer_get_for_influencer(influencer=stranger, pk=offer.pk)


def test_decline_with_reason_then_accept_is_refused(offer: Offer) -> None:
    offer_decline(offer=offer, influencer=offer.influencer, reason="Not my style")

    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == (OfferStatus.DECLINED, "Not my style")
    with pytest.raises(OfferNotOpen, match="declined"):
        offer_accept(
            offer=offer, influencer=offer.influencer, account_ids=accounts(offer), caption_text=None, scheduled_at=None
        )


def test_offer_expires_at_campaign_end(offer: Offer) -> None:
    type(offer.campaign).objects.filter(pk=offer.campaign_id).update(ends_at=timezone.now() - timedelta(minutes=1))

    assert offer_expire_due() == 1

    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert offer.events.filter(action=ModerationAction.OFFER_EXPIRED).exists()


def test_expiry_is_checked_on_access(offer: Offer) -> None:
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OfferNotOpen, match="expired"):
        offer_accept(
            offer=offer, influencer=offer.influencer, account_ids=accounts(offer), caption_text=None, scheduled_at=None
        )

    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED


def test_offer_expires_when_budget_is_used_up(offer: Offer) -> None:
    from campaigns.earnings.budget import campaign_budget_reserve
    from payouts.services.ledger import brand_fund

    campaign = offer.campaign
    brand_fund(brand=campaign.brand, amount_minor=campaign.budget_minor, currency="EUR", source="card", reference="b1")
    campaign_budget_reserve(campaign=campaign)
    assert offer_expire_if_due(offer=offer).status == OfferStatus.NEW

    from payouts.models import AccountKind, LedgerAccount

    LedgerAccount.objects.filter(kind=AccountKind.CAMPAIGN_RESERVED, campaign=campaign).update(balance_minor=0)

    assert offer_expire_due() == 1


def test_paused_campaign_keeps_offers_but_refuses_accepting(offer: Offer) -> None:
    type(offer.campaign).objects.filter(pk=offer.campaign_id).update(status=CampaignStatus.PAUSED)

    assert offer_expire_due() == 0
    with pytest.raises(OfferNotOpen, match="paused"):
        offer_accept(
            offer=offer, influencer=offer.influencer, account_ids=accounts(offer), caption_text=None, scheduled_at=None
        )
    assert offer_expire_if_due(offer=offer).status == OfferStatus.NEW


def test_cancelled_campaign_expires_new_offers(offer: Offer) -> None:
    type(offer.campaign).objects.filter(pk=offer.campaign_id).update(status=CampaignStatus.CANCELLED)

    assert offer_expire_due() == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED


def test_estimate_is_a_labelled_range(offer: Offer) -> None:
    estimate = offer_estimate_get(offer=offer)

    assert estimate.is_estimate
    assert 0 < estimate.low_minor < estimate.high_minor
    assert estimate.words.startswith("Estimate:")
    assert "2 accounts" in estimate.words
    assert len(estimate.accounts) == 2


def test_schedule_must_be_before_campaign_end(offer: Offer) -> None:
    with pytest.raises(MatchingError):
        offer_accept(
            offer=offer,
            influencer=offer.influencer,
            account_ids=accounts(offer),
            caption_text=None,
            scheduled_at=(offer.campaign.ends_at or timezone.now()) + timedelta(days=1),
        )


def test_accepted_ready_shares_are_queued_for_publishing_only_after_commit(
    offer: Offer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from unittest import mock

    from campaigns.models import SharePublication

    with mock.patch("campaigns.publishing.tasks.publication_publish.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            shares = offer_accept(
                offer=offer,
                influencer=offer.influencer,
                account_ids=accounts(offer),
                caption_text=None,
                scheduled_at=None,
            )
        assert SharePublication.objects.filter(share__in=shares).count() == len(shares)
        delay.assert_not_called()  # nothing leaves before the transaction commits
        for callback in callbacks:
            callback()

    assert delay.call_count == len(shares)


def test_the_chosen_content_piece_is_kept_on_the_share_and_its_link_goes_out(offer: Offer) -> None:
    from campaigns.matching.selectors import share_content
    from campaigns.models import TrackingLink
    from campaigns.publishing.services import post_prepare
    from campaigns.tracking.services import tracking_target_url
    from tests.factories.campaigns import CaptionVariantFactory, ContentPieceFactory

    first = offer.campaign.content.get()
    second = ContentPieceFactory(
        campaign=offer.campaign, position=first.position + 1, target_url="https://shop.example/winter"
    )
    CaptionVariantFactory(content=second, language="en")

    shares = offer_accept(
        offer=offer,
        influencer=offer.influencer,
        account_ids=accounts(offer)[:1],
        caption_text=None,
        scheduled_at=None,
        content=second,
    )

    [share] = shares
    share.refresh_from_db()
    assert share.content == second
    assert share_content(share=share) == second
    assert tracking_target_url(share=share).startswith("https://shop.example/winter?")
    post = post_prepare(share=share)
    assert post.draft is not None, post.problem
    assert TrackingLink.objects.get(share=share).target_url.startswith("https://shop.example/winter?")


def test_shares_made_before_the_choice_was_stored_use_the_first_piece(offer: Offer) -> None:
    from campaigns.matching.selectors import share_content
    from tests.factories.campaigns import ContentPieceFactory

    first = offer.campaign.content.get()
    ContentPieceFactory(campaign=offer.campaign, position=first.position + 1, target_url="https://shop.example/winter")
    [share] = offer_accept(
        offer=offer, influencer=offer.influencer, account_ids=accounts(offer)[:1], caption_text=None, scheduled_at=None
    )
    assert share.content == first  # no choice given: the first piece, stored

    share.content = None
    share.save(update_fields=["content"])
    share.refresh_from_db()
    assert share_content(share=share) == first
