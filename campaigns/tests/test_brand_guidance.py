"""Issue "What people see", brand side: destructive actions confirm first and say what happens to the
money (11), a budget the balance does not cover is flagged at submit and when review stops for it (12),
captions waiting for the brand are counted on its overview and emailed (13), and the campaign form
refuses unusable numbers and networks in words (17)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand, BrandRole
from campaigns import services
from campaigns.earnings.budget import campaign_budget_reserve
from campaigns.errors import CampaignInvalid
from campaigns.forms import CampaignForm
from campaigns.influencer.selectors_offers import offer_caption_initial, offer_variant_pick
from campaigns.matching.services import offer_accept
from campaigns.models import Campaign, CampaignStatus, CaptionStatus, MatchStatus, Notification, Offer
from payouts.services.ledger import brand_fund
from tests.factories.accounts import UserFactory
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.campaigns import CampaignFactory, MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


def _client(brand: Brand, role: str = BrandRole.OWNER) -> Client:
    client = Client()
    client.force_login(MembershipFactory(brand=brand, role=role).user)
    return client


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _live_campaign() -> Campaign:
    """Approved with its €500.00 budget reserved from a funded balance."""
    campaign = ready_campaign(status=CampaignStatus.APPROVED, approved_at=timezone.now(), name="Autumn Roast")
    brand_fund(brand=campaign.brand, amount_minor=50_000, currency="EUR", source="card", reference=f"f{campaign.pk}")
    campaign_budget_reserve(campaign=campaign)
    return campaign


# --- 11: confirm before ending or cancelling ---------------------------------------------------------


def test_end_now_asks_first_and_says_what_happens_to_budget_and_earnings() -> None:
    campaign = _live_campaign()
    owner = _client(campaign.brand)
    url = reverse("campaigns:complete", args=[campaign.brand.slug, campaign.pk])

    page = owner.get(url)

    assert page.status_code == 200
    text = _text(page)
    assert "End “Autumn Roast” now?" in text
    assert "The unspent budget, €500.00, goes back to your balance." in text
    assert "Earnings still on hold are paid to them when their hold ends." in text
    assert f'action="{url}"' in text
    assert 'method="post"' in text
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.APPROVED  # looking is not ending


def test_cancel_of_a_draft_says_no_money_moves() -> None:
    campaign = ready_campaign(status=CampaignStatus.DRAFT, name="Spring")
    text = _text(_client(campaign.brand).get(reverse("campaigns:cancel", args=[campaign.brand.slug, campaign.pk])))

    assert "Cancel “Spring”?" in text
    assert "Nothing is reserved for this campaign, so no money moves." in text


def test_detail_page_end_and_cancel_open_a_confirmation_not_a_one_click_post() -> None:
    campaign = _live_campaign()
    html = _client(campaign.brand).get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]))
    html_text = html.content.decode()
    complete_url = reverse("campaigns:complete", args=[campaign.brand.slug, campaign.pk])
    cancel_url = reverse("campaigns:cancel", args=[campaign.brand.slug, campaign.pk])

    # Without JavaScript: plain links to the confirmation pages.
    assert f'href="{complete_url}"' in html_text
    assert f'href="{cancel_url}"' in html_text
    # With JavaScript: the same question in a <dialog>, opened by a static module (no inline script).
    dialogs = re.findall(r"<dialog.*?</dialog>", html_text, flags=re.S)
    assert len(dialogs) == 2
    assert all('method="post"' in dialog for dialog in dialogs)
    assert "js/confirm-dialog.js" in html_text
    outside = re.sub(r"<dialog.*?</dialog>", "", html_text, flags=re.S)
    assert f'action="{complete_url}"' not in outside
    assert f'action="{cancel_url}"' not in outside


def test_confirmation_page_needs_the_cancel_right() -> None:
    campaign = _live_campaign()
    manager = _client(campaign.brand, BrandRole.MANAGER)

    assert manager.get(reverse("campaigns:complete", args=[campaign.brand.slug, campaign.pk])).status_code == 403


def test_confirmed_post_still_ends_the_campaign() -> None:
    campaign = _live_campaign()
    _client(campaign.brand).post(reverse("campaigns:complete", args=[campaign.brand.slug, campaign.pk]))

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED


# --- 12: funds ------------------------------------------------------------------------------------


def test_submit_without_funds_warns_with_the_shortfall_and_a_link_to_funds() -> None:
    campaign = ready_campaign(status=CampaignStatus.DRAFT)  # budget €500.00
    brand_fund(brand=campaign.brand, amount_minor=20_000, currency="EUR", source="card", reference="part")
    owner = _client(campaign.brand)

    response = owner.post(reverse("campaigns:submit", args=[campaign.brand.slug, campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_REVIEW  # still submitted: funds can follow
    text = _text(response)
    assert "€300.00 is missing" in text
    assert f'href="{reverse("payouts:funds", args=[campaign.brand.slug])}"' in text
    assert "message-warning" in text


def test_submit_with_enough_funds_shows_no_warning() -> None:
    campaign = ready_campaign(status=CampaignStatus.DRAFT)
    brand_fund(brand=campaign.brand, amount_minor=50_000, currency="EUR", source="card", reference="all")

    text = _text(
        _client(campaign.brand).post(reverse("campaigns:submit", args=[campaign.brand.slug, campaign.pk]), follow=True)
    )

    assert "is missing" not in text


@pytest.fixture
def staff(settings: Any) -> Client:
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_review_blocked_for_funds_tells_the_brand_on_its_pages_and_by_email(
    staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, name="Winter Roast")
    owner = MembershipFactory(brand=campaign.brand, role=BrandRole.OWNER, user__email="olivia@brand.test").user
    MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST, user__email="anna@brand.test")

    for _attempt in range(2):  # staff try twice: the brand hears about it once
        with django_capture_on_commit_callbacks(execute=True):
            staff.post(
                reverse("admin:campaigns_campaign_changelist"),
                {"action": "approve_selected", ACTION_CHECKBOX_NAME: [campaign.pk]},
            )

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_REVIEW
    notices = Notification.objects.filter(campaign=campaign, kind="funds_needed")
    assert notices.count() == 1
    assert "€500.00 is missing" in notices.get().message
    assert [message.to for message in mail.outbox] == [["olivia@brand.test"]]
    email = mail.outbox[0]
    assert "Winter Roast" in email.subject
    assert "€500.00" in email.body
    assert reverse("payouts:funds", args=[campaign.brand.slug]) in email.body

    client = Client()
    client.force_login(owner)
    detail = _text(client.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk])))
    assert "Review is on hold" in detail
    overview = _text(client.get(reverse("brands:dashboard", args=[campaign.brand.slug])))
    assert "waits for funds" in overview


def test_funds_email_is_not_sent_when_the_brand_topped_up_meanwhile(staff: Client) -> None:
    from campaigns.jobs import campaign_status_email_send

    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)
    MembershipFactory(brand=campaign.brand, role=BrandRole.OWNER)
    brand_fund(brand=campaign.brand, amount_minor=50_000, currency="EUR", source="card", reference="now")

    campaign_status_email_send(campaign.pk, "funds_needed")

    assert mail.outbox == []


# --- 13: captions waiting for the brand -------------------------------------------------------------


def _offer(campaign: Campaign) -> Offer:
    profile = InfluencerProfileFactory(languages=["en"], display_name="Lena Loves Coffee")
    match = MatchFactory(campaign=campaign, influencer=profile, status=MatchStatus.APPROVED)
    return Offer.objects.create(match=match, campaign=campaign, influencer=profile, expires_at=campaign.ends_at)


def _accept(offer: Offer, *, edited: bool) -> None:
    account = ConnectedAccountFactory(influencer=offer.influencer, network="mastodon")
    caption = offer_caption_initial(offer=offer, variant=offer_variant_pick(offer=offer))
    offer_accept(
        offer=offer,
        influencer=offer.influencer,
        account_ids=[account.pk],
        caption_text=caption + (" My favourite!" if edited else ""),
        scheduled_at=None,
    )


def test_an_edited_caption_waiting_for_approval_is_emailed_to_who_can_approve(
    django_capture_on_commit_callbacks: Any,
) -> None:
    campaign = ready_campaign(
        status=CampaignStatus.APPROVED, networks=["mastodon"], requires_caption_approval=True, name="Autumn Roast"
    )
    MembershipFactory(brand=campaign.brand, role=BrandRole.MANAGER, user__email="max@brand.test")
    MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST, user__email="anna@brand.test")

    with django_capture_on_commit_callbacks(execute=True):
        _accept(_offer(campaign), edited=True)

    waiting = [m for m in mail.outbox if "max@brand.test" in m.to]
    assert len(waiting) == 1
    assert "Autumn Roast" in waiting[0].subject
    assert "Lena Loves Coffee" in waiting[0].body
    assert reverse("campaigns:captions", args=[campaign.brand.slug, campaign.pk]) in waiting[0].body
    assert not [m for m in mail.outbox if "anna@brand.test" in m.to]  # analysts cannot approve


def test_no_email_when_the_caption_needs_no_approval(django_capture_on_commit_callbacks: Any) -> None:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"], requires_caption_approval=True)
    MembershipFactory(brand=campaign.brand, role=BrandRole.MANAGER, user__email="max@brand.test")

    with django_capture_on_commit_callbacks(execute=True):
        _accept(_offer(campaign), edited=False)  # the brand's own text: nothing to approve

    assert not [m for m in mail.outbox if "max@brand.test" in m.to]


def test_overview_counts_what_waits_for_the_brand_with_links() -> None:
    campaign = ready_campaign(
        status=CampaignStatus.APPROVED, networks=["mastodon"], requires_caption_approval=True, name="Autumn Roast"
    )
    _accept(_offer(campaign), edited=True)
    assert campaign.shares.filter(caption_status=CaptionStatus.PENDING_APPROVAL).count() == 1

    text = _text(
        _client(campaign.brand, BrandRole.MANAGER).get(reverse("brands:dashboard", args=[campaign.brand.slug]))
    )

    assert "Waiting for you" in text
    assert "1 caption to approve" in text
    assert f'href="{reverse("campaigns:captions", args=[campaign.brand.slug, campaign.pk])}"' in text


def test_overview_says_when_nothing_waits() -> None:
    brand = BrandFactory()
    text = _text(_client(brand).get(reverse("brands:dashboard", args=[brand.slug])))

    assert "Nothing waits for you right now." in text


# --- 17: the campaign form ------------------------------------------------------------------------

FORM = {
    "name": "Spring Roast",
    "currency": "EUR",
    "budget_minor": "1000.00",
    "cpe_minor": "0.10",
    "starts_on": "2030-03-01",
    "ends_on": "2030-03-31",
    "networks": ["mastodon"],
    "languages": ["en"],
}


def _errors(**changes: Any) -> dict[str, list[str]]:
    form = CampaignForm(data={**FORM, **changes})
    form.is_valid()
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_prices_and_budget_have_sensible_bounds_said_in_words() -> None:
    errors = _errors(cpm_minor="99999999")

    assert errors["cpm_minor"] == ["Enter at most 100.00 per 1,000 reach."]
    too_many_digits = _errors(budget_minor="99999999999999999")
    assert too_many_digits["budget_minor"] == ["Enter a budget of at most 1,000,000.00."]
    cents = _errors(cpe_minor="0.123")
    assert cents["cpe_minor"] == ["Use at most two decimal places (cents)."]
    text = " ".join(
        message for messages in (errors, too_many_digits, cents) for m in messages.values() for message in m
    )
    assert "Ensure" not in text


def test_cap_per_share_cannot_exceed_the_budget() -> None:
    errors = _errors(per_share_cap_minor="5000.00")

    assert errors["per_share_cap_minor"] == ["The cap per share cannot be more than the total budget (1,000.00)."]


def test_cap_above_budget_is_refused_by_the_service_too() -> None:
    campaign = CampaignFactory(budget_minor=10_000)

    with pytest.raises(CampaignInvalid) as refused:
        services.campaign_update(campaign=campaign, per_share_cap_minor=20_000)

    assert refused.value.field == "per_share_cap_minor"


def test_help_texts_document_the_bounds() -> None:
    form = CampaignForm()

    assert "0.01" in str(form.fields["cpm_minor"].help_text)
    assert "100.00" in str(form.fields["cpm_minor"].help_text)
    assert "1,000,000.00" in str(form.fields["budget_minor"].help_text)
    assert "budget" in str(form.fields["per_share_cap_minor"].help_text)


def test_only_networks_configured_on_this_platform_can_be_chosen() -> None:
    # In tests no app credentials exist for X, Instagram, Threads, Facebook, LinkedIn or Tumblr.
    choices = {code for code, _label in CampaignForm().fields["networks"].choices}

    assert "mastodon" in choices
    assert not {"x", "instagram", "threads", "facebook", "linkedin", "tumblr"} & choices
    assert _errors(networks=["x"])["networks"]


def test_editing_keeps_a_network_chosen_before_it_was_unconfigured() -> None:
    campaign = CampaignFactory(networks=["mastodon", "x"])
    choices = {code for code, _label in CampaignForm(campaign=campaign).fields["networks"].choices}

    assert "x" in choices  # shown so the brand can untick it, not silently dropped
