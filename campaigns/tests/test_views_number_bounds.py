"""Numbers larger than their database column are a field error on the brand's campaign form, not a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brands.factories import BrandFactory, MembershipFactory
from brands.models import Brand, BrandRole
from campaigns.factories import CampaignFactory
from campaigns.models import MAX_INTEGER, Campaign, CampaignStatus

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"

FORM = {
    "name": "Spring Roast",
    "brief": "Share our spring roast.",
    "currency": "EUR",
    "budget_minor": "1000.00",
    "cpe_minor": "0.10",
    "cpc_minor": "0.15",
    "networks": ["mastodon"],
    "languages": ["en"],
    "followers_min": "500",
    "followers_max": "10000",
}

NUMBER_FIELDS = [
    "budget_minor",
    "cpm_minor",
    "cpe_minor",
    "cpc_minor",
    "per_share_cap_minor",
    "followers_min",
    "followers_max",
    "min_engagement_rate",
]


def _manager(brand: Brand) -> Client:
    client = Client()
    client.force_login(MembershipFactory(brand=brand, role=BrandRole.MANAGER).user)
    return client


def _url(brand: Brand, view: str) -> str:
    if view == "create":
        return reverse("campaigns:create", args=[brand.slug])
    campaign = CampaignFactory(brand=brand, status=CampaignStatus.DRAFT, name="Before")
    return reverse("campaigns:edit", args=[brand.slug, campaign.pk])


@pytest.mark.parametrize("view", ["create", "edit"])
@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_a_huge_number_is_a_field_error_and_the_other_input_stays(view: str, field: str) -> None:
    brand = BrandFactory(currency="EUR")
    client = _manager(brand)
    url = _url(brand, view)
    names_before = set(Campaign.objects.values_list("name", flat=True))

    response = client.post(url, {**FORM, "name": "Kept Name", field: HUGE})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    html = response.content.decode()
    assert 'value="Kept Name"' in html
    assert set(Campaign.objects.values_list("name", flat=True)) == names_before  # nothing saved


@pytest.mark.parametrize("field", ["followers_min", "followers_max"])
def test_follower_bounds_match_the_integer_column(field: str) -> None:
    brand = BrandFactory(currency="EUR")
    client = _manager(brand)
    url = reverse("campaigns:create", args=[brand.slug])
    data = {**FORM, "followers_min": "0", "followers_max": str(MAX_INTEGER)}

    response = client.post(url, {**data, field: str(MAX_INTEGER + 1)})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field)

    response = client.post(url, data)
    assert response.status_code == 302
    assert Campaign.objects.get().followers_max == MAX_INTEGER
