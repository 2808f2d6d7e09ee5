"""Admin match queue: explanations visible, filters, bulk approve (offers + emails + audit), reject with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.models import Match, MatchStatus, ModerationEvent, Offer
from tests.factories.accounts import UserFactory
from tests.factories.campaigns import MatchFactory

pytestmark = pytest.mark.django_db

QUEUE = "admin:campaigns_match_changelist"


@pytest.fixture
def staff(settings: Any) -> Client:
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_queue_shows_explanations_and_filters_by_score(staff: Client) -> None:
    parts = {
        "topic": {"points": 267, "matched": ["coffee"], "matched_count": 1, "campaign_count": 2},
        "audience": {"points": 200, "followers": 4200, "band_min": 1000, "band_max": 10000},
        "performance": {"points": 75, "past_campaigns": 0},
        "health": {"points": 100, "healthy": True},
        "exposure_penalty": {"points": 0, "accepted_recently": 0, "window_days": 14},
    }
    MatchFactory(score=800, score_parts=parts, influencer__display_name="High Scorer")
    MatchFactory(score=200, influencer__display_name="Low Scorer")

    html = staff.get(reverse(QUEUE)).content.decode()
    assert "High Scorer" in html
    assert "audience 4.2k followers in the 1k-10k band" in html

    high_only = staff.get(reverse(QUEUE) + "?score_range=high").content.decode()
    assert "High Scorer" in high_only
    assert "Low Scorer" not in high_only


def test_conflict_filter(staff: Client) -> None:
    MatchFactory(influencer__display_name="Conflicted", conflict_flags=[{"brand": "Rival", "category": "coffee"}])
    MatchFactory(influencer__display_name="Clean")

    html = staff.get(reverse(QUEUE) + "?conflicts=yes").content.decode()

    assert "Conflicted" in html
    assert "Clean" not in html


def test_bulk_approve_creates_offers_emails_and_audit(staff: Client, django_capture_on_commit_callbacks: Any) -> None:
    first, second = MatchFactory(), MatchFactory()
    untouched = MatchFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse(QUEUE), {"action": "approve_selected", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}, follow=True
        )

    assert "2 matches approved" in response.content.decode()
    assert set(Offer.objects.values_list("match_id", flat=True)) == {first.pk, second.pk}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.influencer.user.email, second.influencer.user.email])
    assert ModerationEvent.objects.filter(action="approved").count() == 2
    untouched.refresh_from_db()
    assert untouched.status == MatchStatus.PROPOSED
    detail = staff.get(reverse("admin:campaigns_match_change", args=[first.pk])).content.decode()
    assert "Match approved" in detail


def test_bulk_reject_asks_for_a_reason(staff: Client) -> None:
    match = MatchFactory()
    data = {"action": "reject_selected", ACTION_CHECKBOX_NAME: [match.pk]}

    page = staff.post(reverse(QUEUE), data)
    assert page.status_code == 200
    assert "Reason" in page.content.decode()
    assert Match.objects.get(pk=match.pk).status == MatchStatus.PROPOSED

    staff.post(reverse(QUEUE), {**data, "reason": "Audience is not a fit"})

    match.refresh_from_db()
    assert match.status == MatchStatus.REJECTED
    assert match.decision_reason == "Audience is not a fit"
    assert not Offer.objects.exists()


def test_withdraw_offer_asks_for_a_reason(staff: Client) -> None:
    from tests.factories.campaigns import OfferFactory

    offer = OfferFactory()
    data = {"action": "withdraw_selected", ACTION_CHECKBOX_NAME: [offer.pk]}
    url = reverse("admin:campaigns_offer_changelist")

    assert "Withdraw offers" in staff.post(url, data).content.decode()
    staff.post(url, {**data, "reason": "Competitor conflict noticed late"})

    offer.refresh_from_db()
    assert offer.status == "withdrawn"
    assert offer.events.get().reason == "Competitor conflict noticed late"
