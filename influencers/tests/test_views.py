"""Onboarding form and influencer home, as a person uses them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from influencers.models import InfluencerProfile, Topic
from tests.factories.accounts import UserFactory
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    topics = [str(pk) for pk in Topic.objects.filter(slug__in=["coffee", "travel"]).values_list("pk", flat=True)]
    return {
        "display_name": "Mia Novak",
        "bio": "Travel photos",
        "country": "AT",
        "languages": ["en", "de"],
        "topics": topics,
        "audience_description": "Students in Vienna",
        "tax_status": "private",
        "vat_id": "",
        "accept_terms": "on",
    } | overrides


def test_people_without_a_profile_are_sent_to_onboarding() -> None:
    response = _client(UserFactory()).get(reverse("influencers:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("influencers:onboarding")


def test_onboarding_creates_the_profile_and_lands_on_home() -> None:
    user = UserFactory()
    client = _client(user)

    response = client.post(reverse("influencers:onboarding"), _form(), follow=True)

    assert response.redirect_chain[-1][0] == reverse("influencers:home")
    profile = InfluencerProfile.objects.get(user=user)
    assert profile.display_name == "Mia Novak"
    assert profile.terms_accepted_at is not None
    page = response.content.decode()
    assert "Your influencer profile is ready" in page
    assert "Offers appear here when a brand" in page


def test_terms_not_accepted_keeps_every_answer_and_says_why() -> None:
    user = UserFactory()

    response = _client(user).post(reverse("influencers:onboarding"), _form(accept_terms=""))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Please accept the terms" in page
    assert 'value="Mia Novak"' in page
    assert "Students in Vienna" in page
    assert not InfluencerProfile.objects.filter(user=user).exists()


def test_vat_registered_without_vat_id_is_refused_on_the_form() -> None:
    user = UserFactory()

    response = _client(user).post(reverse("influencers:onboarding"), _form(tax_status="vat_registered"))

    assert response.status_code == 200
    assert "Enter your VAT ID" in response.content.decode()
    assert not InfluencerProfile.objects.filter(user=user).exists()


def test_vat_registered_with_valid_vat_id_is_saved() -> None:
    user = UserFactory()

    _client(user).post(reverse("influencers:onboarding"), _form(tax_status="vat_registered", vat_id="DE 123456789"))

    assert InfluencerProfile.objects.get(user=user).vat_id == "DE123456789"


def test_a_person_can_only_edit_their_own_profile() -> None:
    victim = InfluencerProfileFactory(display_name="Victim")
    attacker = UserFactory()

    # Nothing in the form addresses a profile: extra fields naming another person are ignored.
    _client(attacker).post(
        reverse("influencers:onboarding"), _form(display_name="Hacked", user=victim.user.pk, id=victim.pk)
    )

    victim.refresh_from_db()
    assert victim.display_name == "Victim"
    assert InfluencerProfile.objects.get(user=attacker).display_name == "Hacked"


def test_editing_shows_terms_already_accepted() -> None:
    user = UserFactory()
    client = _client(user)
    client.post(reverse("influencers:onboarding"), _form())

    page = client.get(reverse("influencers:onboarding")).content.decode()
    saved = client.post(reverse("influencers:onboarding"), _form(accept_terms="", bio="New bio"))

    assert "You accepted the terms on" in page
    assert 'name="accept_terms"' not in page
    assert saved.status_code == 302
    assert InfluencerProfile.objects.get(user=user).bio == "New bio"


def test_home_shows_completeness_and_the_way_to_connect_accounts() -> None:
    profile = InfluencerProfileFactory(bio="", audience_description="")
    profile.topics.set(Topic.objects.filter(slug="coffee"))

    page = _client(profile.user).get(reverse("influencers:home")).content.decode()

    assert "% complete" in page
    assert "A short bio" in page
    assert "Who your audience is" in page
    assert reverse("networks:accounts") in page
    assert "Connect a social account" in page


def test_onboarding_needs_sign_in() -> None:
    response = Client().get(reverse("influencers:onboarding"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("url_name", "label"),
    [
        ("influencers:home", "Home"),
        ("influencers:offers", "Offers"),
        ("influencers:shares", "Shares"),
        ("influencers:results", "Results"),
        ("payouts:earnings", "Earnings"),
        ("networks:accounts", "Accounts"),
    ],
)
def test_every_influencer_section_shows_the_section_nav_with_its_own_entry_current(url_name: str, label: str) -> None:
    profile = InfluencerProfileFactory()
    response = _client(profile.user).get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    subnav = html.split('aria-label="Influencer sections"', 1)[1].split("</nav>", 1)[0]
    assert f'<a href="{reverse(url_name)}" aria-current="page">{label}</a>' in subnav
    assert subnav.count('aria-current="page"') == 1
