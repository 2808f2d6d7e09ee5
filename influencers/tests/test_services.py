"""influencer_profile_save: the rules of a valid profile."""

from __future__ import annotations

from typing import Any

import pytest

from influencers.errors import ProfileInvalid
from influencers.models import InfluencerProfile, TaxStatus, Topic
from influencers.services import influencer_profile_save
from influencers.vat import vat_id_is_well_formed, vat_id_normalize
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def _valid(**overrides: Any) -> dict[str, Any]:
    return {
        "display_name": "Lena Berger",
        "bio": "Coffee and zero waste.",
        "country": "AT",
        "languages": ["de", "en"],
        "audience_description": "25-40, Upper Austria",
        "tax_status": TaxStatus.PRIVATE,
        "vat_id": "",
        "accept_terms": True,
        "topics": Topic.objects.filter(slug__in=["coffee", "food"]),
    } | overrides


def test_first_save_creates_the_profile_and_records_when_terms_were_accepted() -> None:
    user = UserFactory()

    profile = influencer_profile_save(user=user, **_valid())

    assert profile.user == user
    assert profile.terms_accepted_at is not None
    assert sorted(profile.topics.values_list("slug", flat=True)) == ["coffee", "food"]


def test_terms_are_required_the_first_time_only() -> None:
    user = UserFactory()
    with pytest.raises(ProfileInvalid) as refused:
        influencer_profile_save(user=user, **_valid(accept_terms=False))
    assert set(refused.value.errors) == {"accept_terms"}
    assert not InfluencerProfile.objects.filter(user=user).exists()

    first = influencer_profile_save(user=user, **_valid())
    again = influencer_profile_save(user=user, **_valid(accept_terms=False, bio="Changed"))

    assert again.bio == "Changed"
    assert again.terms_accepted_at == first.terms_accepted_at


def test_vat_registered_needs_a_well_formed_vat_id() -> None:
    user = UserFactory()

    with pytest.raises(ProfileInvalid) as missing:
        influencer_profile_save(user=user, **_valid(tax_status=TaxStatus.VAT_REGISTERED, vat_id=""))
    with pytest.raises(ProfileInvalid) as malformed:
        influencer_profile_save(user=user, **_valid(tax_status=TaxStatus.VAT_REGISTERED, vat_id="AT12345678"))
    profile = influencer_profile_save(user=user, **_valid(tax_status=TaxStatus.VAT_REGISTERED, vat_id="atu 1234.5678"))

    assert "Enter your VAT ID" in missing.value.errors["vat_id"]
    assert "does not look like a VAT ID" in malformed.value.errors["vat_id"]
    assert profile.vat_id == "ATU12345678"


def test_vat_id_is_dropped_when_not_vat_registered() -> None:
    profile = influencer_profile_save(
        user=UserFactory(), **_valid(tax_status=TaxStatus.SMALL_BUSINESS, vat_id="nonsense")
    )

    assert profile.tax_status == TaxStatus.SMALL_BUSINESS
    assert profile.vat_id == ""


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ProfileInvalid) as refused:
        influencer_profile_save(
            user=UserFactory(),
            **_valid(display_name=" ", country="", languages=[], topics=Topic.objects.none(), accept_terms=False),
        )

    assert set(refused.value.errors) == {"display_name", "country", "languages", "topics", "accept_terms"}


def test_too_many_topics_are_refused() -> None:
    with pytest.raises(ProfileInvalid) as refused:
        influencer_profile_save(user=UserFactory(), **_valid(topics=Topic.objects.all()[:9]))

    assert "at most 8" in refused.value.errors["topics"]


def test_saving_touches_only_the_given_users_profile() -> None:
    alice = influencer_profile_save(user=UserFactory(), **_valid(display_name="Alice"))
    bob_user = UserFactory()

    influencer_profile_save(user=bob_user, **_valid(display_name="Bob"))

    alice.refresh_from_db()
    assert alice.display_name == "Alice"
    assert InfluencerProfile.objects.get(user=bob_user).display_name == "Bob"


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("ATU12345678", True),
        ("DE123456789", True),
        ("de 123 456 789", True),
        ("FRXX123456789", True),
        ("NL123456789B01", True),
        ("GR123456789", True),
        ("DE12345678", False),
        ("ATU1234567", False),
        ("XX123456789", False),
        ("123456789", False),
    ],
)
def test_vat_id_formats(raw: str, ok: bool) -> None:
    assert vat_id_is_well_formed(vat_id_normalize(raw)) is ok
