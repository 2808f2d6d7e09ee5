"""Admin review queue: approve (reserving budget) or reject with a reason on an intermediate page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from campaigns.models import CampaignStatus
from payouts.services.ledger import brand_fund
from tests.factories.accounts import UserFactory
from tests.factories.campaigns import ready_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(settings: Any) -> Client:
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_queue_lists_campaigns_in_review(staff: Client) -> None:
    ready_campaign(status=CampaignStatus.IN_REVIEW, name="Waiting")
    ready_campaign(status=CampaignStatus.DRAFT, name="Not yet")

    html = staff.get(reverse("admin:campaigns_campaign_changelist") + "?status__exact=in_review").content.decode()

    assert "Waiting" in html
    assert "Not yet" not in html


def test_approve_action_reserves_budget(staff: Client) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)
    brand_fund(brand=campaign.brand, amount_minor=campaign.budget_minor, currency="EUR", source="card", reference="t1")

    response = staff.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: [campaign.pk]},
        follow=True,
    )

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.APPROVED
    assert "approved" in response.content.decode()


def test_approve_without_funds_shows_why_and_keeps_it_in_review(staff: Client) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)

    response = staff.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: [campaign.pk]},
        follow=True,
    )

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_REVIEW
    assert "Top up the workspace first." in response.content.decode()


def test_reject_asks_for_a_reason_first(staff: Client) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)
    url = reverse("admin:campaigns_campaign_changelist")

    ask = staff.post(url, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [campaign.pk]})
    assert ask.status_code == 200
    assert "Reason (the brand sees it)" in ask.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_REVIEW

    staff.post(url, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [campaign.pk], "reason": "Image is blurry."})

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.REJECTED
    assert campaign.rejection_reason == "Image is blurry."


def test_change_page_shows_content_preview(staff: Client) -> None:
    campaign = ready_campaign()

    html = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert "Our new autumn roast is here." in html


def test_approved_campaign_terms_are_read_only_and_cannot_be_deleted(staff: Client) -> None:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, budget_minor=50_000)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    html = staff.get(url).content.decode()
    staff.post(url, {"budget_minor": "1", "name": "changed"})

    assert 'name="budget_minor"' not in html
    campaign.refresh_from_db()
    assert campaign.budget_minor == 50_000
    assert (
        staff.post(reverse("admin:campaigns_campaign_delete", args=[campaign.pk]), {"post": "yes"}).status_code == 403
    )


def test_review_checklist_tells_the_reviewer_what_does_not_fit(staff: Client) -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, networks=["instagram"])

    html = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert "Instagram needs an image or video." in html
