"""The lifecycle: every allowed move works, every other is refused with a clear message; money moves with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from brands.models import BrandRole
from campaigns import services
from campaigns.errors import CampaignFundsError, CampaignInvalid, CampaignNotEditable, CampaignTransitionError
from campaigns.models import Campaign, CampaignStatus, Notification
from payouts.services.ledger import brand_fund
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, ready_campaign

pytestmark = pytest.mark.django_db

ALL = list(CampaignStatus.values)


def _fund(campaign: Campaign, amount: int | None = None) -> None:
    brand_fund(
        brand=campaign.brand,
        amount_minor=amount if amount is not None else campaign.budget_minor,
        currency=campaign.currency,
        source="bank_transfer",
        reference=f"test-{campaign.pk}-{amount}",
    )


ACTIONS: dict[str, Callable[[Campaign], Campaign]] = {
    "submit": lambda c: services.campaign_submit(campaign=c),
    "withdraw": lambda c: services.campaign_withdraw(campaign=c),
    "approve": lambda c: services.campaign_approve(campaign=c, reviewed_by=None),
    "reject": lambda c: services.campaign_reject(campaign=c, reviewed_by=None, reason="Blurry image"),
    "pause": lambda c: services.campaign_pause(campaign=c),
    "resume": lambda c: services.campaign_resume(campaign=c),
    "complete": lambda c: services.campaign_complete(campaign=c),
    "cancel": lambda c: services.campaign_cancel(campaign=c),
}
ALLOWED = {
    ("submit", "draft"): "in_review",
    ("submit", "rejected"): "in_review",
    ("withdraw", "in_review"): "draft",
    ("approve", "in_review"): "approved",
    ("reject", "in_review"): "rejected",
    ("pause", "approved"): "paused",
    ("resume", "paused"): "approved",
    ("complete", "approved"): "completed",
    ("complete", "paused"): "completed",
    ("cancel", "draft"): "cancelled",
    ("cancel", "in_review"): "cancelled",
    ("cancel", "rejected"): "cancelled",
    ("cancel", "approved"): "cancelled",
    ("cancel", "paused"): "cancelled",
}


def campaign_in(status: str) -> Campaign:
    campaign = ready_campaign(status=status)
    _fund(campaign)
    if status in ("approved", "paused"):
        campaign.approved_at = timezone.now()
        campaign.save()
    return campaign


@pytest.mark.parametrize(("action", "source"), sorted(ALLOWED))
def test_allowed_transition_works(action: str, source: str) -> None:
    campaign = campaign_in(source)

    result = ACTIONS[action](campaign)

    campaign.refresh_from_db()
    assert result.status == campaign.status == ALLOWED[(action, source)]


REFUSED = [(a, s) for a in ACTIONS for s in ALL if (a, s) not in ALLOWED]


@pytest.mark.parametrize(("action", "source"), REFUSED)
def test_every_other_transition_is_refused_with_a_clear_message(action: str, source: str) -> None:
    campaign = campaign_in(source)

    with pytest.raises(CampaignTransitionError) as refused:
        ACTIONS[action](campaign)

    campaign.refresh_from_db()
    assert campaign.status == source
    status_label = str(CampaignStatus(source).label).lower()
    assert f"This campaign is {status_label}, so it cannot be" in str(refused.value)
    assert "That is only possible while it is:" in str(refused.value)


def test_submit_lists_what_is_missing() -> None:
    campaign = CampaignFactory(cpm_minor=None, cpe_minor=None, cpc_minor=None, networks=[])

    with pytest.raises(CampaignInvalid) as refused:
        services.campaign_submit(campaign=campaign)

    message = str(refused.value)
    assert "Set at least one price" in message
    assert "Choose at least one network" in message
    assert "Add at least one content piece" in message
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_submit_refuses_a_caption_that_does_not_fit_a_targeted_network() -> None:
    campaign = ready_campaign(networks=["x"])
    variant = campaign.content.get().variants.get()
    variant.text = "a" * 400
    variant.save()

    with pytest.raises(CampaignInvalid, match="Too long for X"):
        services.campaign_submit(campaign=campaign)


def test_approve_reserves_the_budget_notifies_and_emails(django_capture_on_commit_callbacks: Any) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)
    MembershipFactory(brand=campaign.brand, role=BrandRole.OWNER, user__email="owner@brand.test")
    _fund(campaign, 80_000)
    reviewer = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_approve(campaign=campaign, reviewed_by=reviewer)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.APPROVED
    assert campaign.is_live
    assert campaign.reviewed_by == reviewer
    from campaigns.earnings.budget import campaign_reservation_active

    assert campaign_reservation_active(campaign=campaign)
    assert Notification.objects.filter(campaign=campaign, kind="campaign_approved").exists()
    assert [m.to for m in mail.outbox] == [["owner@brand.test"]]
    assert "was approved" in mail.outbox[0].subject


def test_approval_without_funds_keeps_the_campaign_in_review() -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, budget_minor=50_000)
    _fund(campaign, 10_000)

    with pytest.raises(CampaignFundsError, match="missing"):
        services.campaign_approve(campaign=campaign, reviewed_by=None)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_REVIEW
    assert campaign.approved_at is None
    assert not Notification.objects.exists()


def _available(campaign: Campaign) -> int:
    from payouts.selectors import brand_balance_minor

    return brand_balance_minor(brand=campaign.brand, currency=campaign.currency)


@pytest.mark.parametrize("close", ["complete", "cancel"])
def test_closing_an_approved_campaign_releases_the_budget(close: str) -> None:
    from campaigns.earnings.budget import campaign_reservation_active

    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)
    _fund(campaign)
    services.campaign_approve(campaign=campaign, reviewed_by=None)
    assert campaign_reservation_active(campaign=campaign)
    assert _available(campaign) == 0

    ACTIONS[close](campaign)
    assert _available(campaign) == campaign.budget_minor

    campaign.refresh_from_db()
    assert not campaign_reservation_active(campaign=campaign)
    from payouts.models import LedgerTransaction

    assert LedgerTransaction.objects.filter(idempotency_key=f"campaign:{campaign.pk}:release").exists()


def test_reject_needs_a_reason_and_tells_the_brand(django_capture_on_commit_callbacks: Any) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)
    MembershipFactory(brand=campaign.brand, role=BrandRole.MANAGER, user__email="m@brand.test")

    with pytest.raises(CampaignInvalid, match="Say why"):
        services.campaign_reject(campaign=campaign, reviewed_by=None, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_reject(campaign=campaign, reviewed_by=None, reason="The image is blurry.")

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.REJECTED
    assert campaign.rejection_reason == "The image is blurry."
    assert "The image is blurry." in Notification.objects.get().message
    assert "The image is blurry." in mail.outbox[0].body


def test_only_drafts_and_rejected_campaigns_can_be_edited() -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)

    with pytest.raises(CampaignNotEditable, match="can no longer be edited"):
        services.campaign_update(campaign=campaign, name="New name")
    with pytest.raises(CampaignNotEditable):
        services.content_create(
            campaign=campaign,
            title="x",
            target_url="https://a.example/",
            variants=[services.VariantInput(text="t", language="en")],
        )


def test_update_refuses_fields_that_are_not_editable() -> None:
    campaign = CampaignFactory()

    with pytest.raises(TypeError):
        services.campaign_update(campaign=campaign, status="approved")
    with pytest.raises(TypeError):
        services.campaign_update(campaign=campaign, platform_fee_bps=0)


def test_create_defaults_currency_and_disclosures() -> None:
    campaign = CampaignFactory()
    brand = campaign.brand
    brand.currency = "CHF"
    brand.save()

    created = services.campaign_create(brand=brand, created_by=None, name="Winter", languages=["de", "fr"])

    assert created.currency == "CHF"
    assert created.disclosures == {"de": "#Werbung", "fr": "#publicité"}
    assert created.platform_fee_bps == 1500


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cpm_minor": -1}, "negative"),
        ({"cpc_minor": 0}, "zero is not a price"),
        ({"followers_min": 10, "followers_max": 5}, "maximum followers"),
        ({"networks": ["myspace"]}, "Unknown network"),
        ({"disclosures": {"en": "#nothing"}}, "Choose a disclosure"),
        ({"currency": "BTC"}, "Choose one of"),
    ],
)
def test_inconsistent_fields_are_refused(fields: dict[str, Any], message: str) -> None:
    campaign = CampaignFactory()
    with pytest.raises(CampaignInvalid, match=message):
        services.campaign_update(campaign=campaign, **fields)


def test_dates_must_be_in_order() -> None:
    now = timezone.now()
    with pytest.raises(CampaignInvalid, match="end after it starts"):
        services.campaign_create(
            brand=CampaignFactory().brand, created_by=None, name="x", starts_at=now, ends_at=now - timedelta(days=1)
        )


def test_link_must_be_http_or_https_and_gets_utm() -> None:
    campaign = CampaignFactory(slug="autumn")
    variants = [services.VariantInput(text="t", language="en")]
    for bad in ("javascript:alert(1)", "ftp://files.example/x", "https://user:pw@shop.example/", "shop.example"):
        with pytest.raises(CampaignInvalid):
            services.content_create(campaign=campaign, title="x", target_url=bad, variants=variants)

    piece = services.content_create(
        campaign=campaign, title="x", target_url="https://shop.example/a", variants=variants
    )

    assert piece.target_url == "https://shop.example/a?utm_source=linkilike&utm_medium=influencer&utm_campaign=autumn"


def test_duplicate_makes_a_new_draft_with_content() -> None:
    campaign = ready_campaign(status=CampaignStatus.COMPLETED, rejection_reason="old")

    copy = services.campaign_duplicate(campaign=campaign, created_by=None)

    assert copy.status == CampaignStatus.DRAFT
    assert copy.pk != campaign.pk
    assert copy.name.startswith("Copy of ")
    assert copy.content.count() == 1
    assert copy.content.get().variants.count() == 1
    assert f"utm_campaign={copy.slug}" in copy.content.get().target_url


def test_archive_only_drafts_and_finished_campaigns() -> None:
    live = ready_campaign(status=CampaignStatus.APPROVED)
    with pytest.raises(CampaignTransitionError, match="cannot be archived"):
        services.campaign_archive(campaign=live)

    done = ready_campaign(status=CampaignStatus.COMPLETED)
    services.campaign_archive(campaign=done)
    done.refresh_from_db()
    assert done.archived_at is not None


def test_complete_due_ends_campaigns_past_their_end_date() -> None:
    past = ready_campaign(status=CampaignStatus.APPROVED, ends_at=timezone.now() - timedelta(minutes=1))
    current = ready_campaign(status=CampaignStatus.APPROVED)

    assert services.campaign_complete_due() == 1

    past.refresh_from_db()
    current.refresh_from_db()
    assert past.status == CampaignStatus.COMPLETED
    assert current.status == CampaignStatus.APPROVED
