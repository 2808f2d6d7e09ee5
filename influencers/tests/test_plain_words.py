"""Influencers read plain words, not scoring internals (issue "What people see", 15).

The offer's "Why you" had the staff explanation with its points ("(-100)"), and the earnings page named the
booking window ("window +2m"). Both now say what happened in the person's language.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from campaigns.earnings.services import earnings_accrue
from campaigns.matching.engine import ScoreInput, score_parts_build
from campaigns.models import CampaignStatus, Offer
from payouts.tests.helpers import delta, funded_campaign
from payouts.windows import window_words
from tests.factories.campaigns import MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db


def _parts(*, recent_accepted: int = 2, healthy: bool = True) -> dict[str, object]:
    return score_parts_build(
        ScoreInput(
            topic_slugs_matched=["coffee"],
            campaign_topic_slugs=["coffee", "food"],
            followers=1200,
            network="mastodon",
            band_min=500,
            band_max=20_000,
            healthy=healthy,
            recent_accepted=recent_accepted,
        )
    )


def _offer_page(language: str, **parts: object) -> str:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"])
    influencer = InfluencerProfileFactory(languages=["en"])
    match = MatchFactory(campaign=campaign, influencer=influencer, status="approved", score_parts=_parts(**parts))
    offer = Offer.objects.create(match=match, campaign=campaign, influencer=influencer, expires_at=campaign.ends_at)
    client = Client()
    client.force_login(influencer.user)
    client.cookies["django_language"] = language
    return client.get(reverse("influencers:offer-detail", kwargs={"pk": offer.pk})).content.decode()


@pytest.mark.parametrize("language", ["en", "de"])
def test_why_you_has_no_points_or_scores(language: str) -> None:
    page = _offer_page(language, recent_accepted=2, healthy=False)

    why = page.split("Why you:" if language == "en" else "Warum Sie:", 1)[1].split("</p>", 1)[0]
    for internal in ("(-", "-200", "points", "Punkte", "topics:", "audience "):  # the staff's terse form
        assert internal not in why
    if language == "en":
        assert "1,200 followers" in why
        assert "2 offers in the last 14 days" in why
    else:
        assert "1.200 Follower" in why
        assert "2 Angebote" in why


@pytest.mark.parametrize(
    ("window", "english", "german"),
    [
        ("+2m", "2 minutes after publishing", "2 Minuten nach der Veröffentlichung"),
        ("+1h", "1 hour after publishing", "1 Stunde nach der Veröffentlichung"),
        ("+7d", "7 days after publishing", "7 Tage nach der Veröffentlichung"),
        ("removed", "post removed", "Beitrag entfernt"),
    ],
)
def test_window_words(window: str, english: str, german: str) -> None:
    with translation.override("en"):
        assert window_words(window).startswith(english)
    with translation.override("de"):
        assert window_words(window).startswith(german)


def test_click_hours_read_as_a_local_time() -> None:
    with translation.override("de"):
        assert window_words("clicks:2026-11-02T10") == "Klicks der Stunde ab 02.11.2026 11:00"


def test_earnings_page_names_the_window_in_words(client: Client) -> None:
    person = InfluencerProfileFactory()
    campaign = funded_campaign(budget=100_000, name="Alpenglow launch")
    earnings_accrue(delta=delta(campaign, person, "+2m", share=f"s-{person.pk}", engagements=1))
    client.force_login(person.user)

    page = client.get(reverse("payouts:earnings")).content.decode()

    assert "window +2m" not in page
    assert "2 minutes after publishing" in page
    assert "1 engagement \N{MULTIPLICATION SIGN}" in page  # not "1 engagements"
