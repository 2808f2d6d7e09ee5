"""An influencer's local time is theirs, not the server's (issue "What people see", 21).

An Austrian influencer was told "Your local time (UTC)": times were read in whatever zone the server or the
browser of the moment said. The profile now keeps a time zone: filled from the browser on onboarding
(static/js/timezone.js, no inline script under the CSP), else from the country; the offer page schedules in it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignStatus, Offer
from influencers.models import InfluencerProfile, Topic
from influencers.timezones import influencer_time_zone, time_zone_default
from tests.factories.accounts import UserFactory
from tests.factories.campaigns import MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db


def _form(**overrides: Any) -> dict[str, Any]:
    topics = [str(pk) for pk in Topic.objects.filter(slug__in=["coffee"]).values_list("pk", flat=True)]
    return {
        "display_name": "Felix Filter",
        "country": "AT",
        "languages": ["de"],
        "topics": topics,
        "tax_status": "private",
        "accept_terms": "on",
    } | overrides


def _onboard(**overrides: Any) -> InfluencerProfile:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post(reverse("influencers:onboarding"), _form(**overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return InfluencerProfile.objects.get(user=user)


def test_onboarding_page_asks_the_browser_for_its_zone_with_a_static_script() -> None:
    client = Client()
    client.force_login(UserFactory())

    html = client.get(reverse("influencers:onboarding")).content.decode()

    assert 'src="/static/js/timezone.js"' in html
    assert "data-browser-time-zone" in html
    assert '<option value="Europe/Vienna">' in html


def test_the_browsers_zone_is_kept() -> None:
    assert _onboard(time_zone="America/New_York").time_zone == "America/New_York"


def test_without_the_browsers_zone_the_country_decides(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"  # a server in UTC must not make an Austrian's time UTC

    assert _onboard(time_zone="").time_zone == "Europe/Vienna"
    assert _onboard(time_zone="", country="DE").time_zone == "Europe/Berlin"


def test_a_zone_that_hides_the_real_one_falls_back_to_the_country() -> None:
    # Privacy modes and headless browsers report UTC: that is no one's choice.
    assert time_zone_default(browser="UTC", country="AT") == "Europe/Vienna"
    assert time_zone_default(browser="Etc/GMT", country="CH") == "Europe/Zurich"
    assert time_zone_default(browser="Europe/Lisbon", country="AT") == "Europe/Lisbon"
    assert time_zone_default(browser="Mars/Olympus", country="") == "Europe/Vienna"  # the site's zone


def test_an_unknown_zone_is_refused() -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)

    response = client.post(reverse("influencers:onboarding"), _form(time_zone="Mars/Olympus"))

    assert response.status_code == 200
    assert not InfluencerProfile.objects.filter(user=user).exists()


def test_the_offer_page_schedules_in_the_profiles_zone(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    campaign = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"])
    influencer = InfluencerProfileFactory(country="AT", time_zone="")  # made before zones were kept
    match = MatchFactory(campaign=campaign, influencer=influencer, status="approved")
    offer = Offer.objects.create(match=match, campaign=campaign, influencer=influencer, expires_at=campaign.ends_at)
    client = Client()
    client.force_login(influencer.user)

    html = client.get(reverse("influencers:offer-detail", kwargs={"pk": offer.pk})).content.decode()

    assert "Your local time (Europe/Vienna)" in html
    assert "(UTC)" not in html
    assert str(influencer_time_zone(influencer)) == "Europe/Vienna"
    assert timezone.get_current_timezone_name() == "UTC"
