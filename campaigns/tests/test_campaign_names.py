"""Campaign names reach email subjects: line breaks and other control characters are refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from brands.models import BrandRole
from campaigns import services
from campaigns.errors import CampaignInvalid
from campaigns.models import Campaign
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.campaigns import CampaignFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Names cannot contain line breaks, tabs or other control characters."
HOSTILE = "Spring Roast\r\nBcc: everyone@example.test"
FORM = {
    "name": "Spring Roast",
    "brief": "Share our spring roast.",
    "currency": "EUR",
    "budget_minor": "1000.00",
    "cpe_minor": "0.10",
    "networks": ["mastodon"],
    "languages": ["en"],
}


def test_the_campaign_form_refuses_a_line_break_and_keeps_the_input() -> None:
    brand = BrandFactory()
    client = Client()
    client.force_login(MembershipFactory(brand=brand, role=BrandRole.MANAGER).user)

    response = client.post(reverse("campaigns:create", args=[brand.slug]), {**FORM, "name": HOSTILE})

    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert response.context["form"].data["brief"] == FORM["brief"]
    assert not Campaign.objects.exists()


def test_the_api_refuses_a_line_break_on_create_and_rename() -> None:
    campaign = CampaignFactory()
    client = APIClient()
    client.force_authenticate(MembershipFactory(brand=campaign.brand, role=BrandRole.MANAGER).user)

    created = client.post(
        reverse("brand-campaigns-list", kwargs={"brand_slug": campaign.brand.slug}),
        {"name": HOSTILE, "budget_minor": 1000, "cpe_minor": 10},
        format="json",
    )
    renamed = client.patch(
        reverse("brand-campaigns-detail", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk}),
        {"name": "Roast\tLtd"},
        format="json",
    )

    assert created.status_code == 400
    assert MESSAGE in created.json()["name"]
    assert renamed.status_code == 400
    assert MESSAGE in renamed.json()["name"]
    assert Campaign.objects.get().name == campaign.name


def test_the_services_refuse_a_line_break_for_every_caller() -> None:
    campaign = CampaignFactory()

    with pytest.raises(CampaignInvalid, match="control characters") as refused:
        services.campaign_create(brand=campaign.brand, created_by=None, name=HOSTILE)
    assert refused.value.field == "name"
    with pytest.raises(CampaignInvalid, match="control characters"):
        services.campaign_update(campaign=campaign, name="Roast\nLtd")


def test_duplicating_a_campaign_stored_with_a_line_break_gives_a_one_line_name() -> None:
    campaign = CampaignFactory(name="Spring\r\nRoast")

    copy = services.campaign_duplicate(campaign=campaign, created_by=None)

    assert copy.name == "Copy of Spring Roast"
