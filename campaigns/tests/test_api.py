"""API: CRUD, idempotent create, mass assignment refused, lifecycle errors as 409, roles, media upload."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from brands.models import Brand, BrandRole
from campaigns.models import Campaign, CampaignStatus, ContentPiece
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.campaigns import CampaignFactory, png_upload, ready_campaign

pytestmark = pytest.mark.django_db


def api(brand: Brand, role: str = BrandRole.MANAGER) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(brand=brand, role=role).user)
    return client


def campaigns_url(brand: Brand) -> str:
    return reverse("brand-campaigns-list", kwargs={"brand_slug": brand.slug})


def action_url(campaign: Campaign, action: str) -> str:
    return reverse(f"brand-campaigns-{action}", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})


BODY = {
    "name": "API Roast",
    "budget_minor": 100_000,
    "cpe_minor": 10,
    "languages": ["en"],
    "networks": ["mastodon"],
    "topics": [],
    "countries": ["AT", "DE"],
}


def test_create_is_idempotent_with_a_key() -> None:
    brand = BrandFactory()
    client = api(brand)

    first = client.post(campaigns_url(brand), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(campaigns_url(brand), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Campaign.objects.count() == 1
    data = first.json()
    assert data["status"] == "draft"
    assert data["disclosures"] == {"en": "#ad"}
    assert data["countries"] == ["AT", "DE"]
    assert data["estimate"]["shares"] > 0


@pytest.mark.parametrize(
    "field",
    [
        {"status": "approved"},
        {"brand": 999},
        {"budget_spent_minor": 5},
        {"budget_reserved_minor": 5},
        {"platform_fee_bps": 0},
        {"approved_at": "2030-01-01T00:00:00Z"},
    ],
)
def test_mass_assignment_is_refused_on_create_and_update(field: dict[str, object]) -> None:
    brand = BrandFactory()
    client = api(brand)
    campaign = CampaignFactory(brand=brand)

    created = client.post(campaigns_url(brand), {**BODY, **field}, format="json")
    updated = client.patch(action_url(campaign, "detail"), field, format="json")

    assert created.status_code == 400
    assert updated.status_code == 400
    assert "cannot be set" in str(created.json())
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.platform_fee_bps == 1500
    assert Campaign.objects.count() == 1


def test_refused_transition_answers_409_with_the_message() -> None:
    campaign = ready_campaign(status=CampaignStatus.APPROVED)

    response = api(campaign.brand).post(action_url(campaign, "submit"))

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert "This campaign is approved, so it cannot be submitted for review." in response.json()["detail"]


def test_incomplete_submit_answers_400() -> None:
    campaign = CampaignFactory()

    response = api(campaign.brand).post(action_url(campaign, "submit"))

    assert response.status_code == 400
    assert "Add at least one content piece" in response.json()["detail"]


def test_submit_and_withdraw() -> None:
    campaign = ready_campaign()
    client = api(campaign.brand)

    assert client.post(action_url(campaign, "submit")).json()["status"] == "in_review"
    assert client.patch(action_url(campaign, "detail"), {"name": "x"}, format="json").status_code == 409
    assert client.post(action_url(campaign, "withdraw")).json()["status"] == "draft"


def test_cancel_is_for_owners() -> None:
    campaign = ready_campaign()

    assert api(campaign.brand, BrandRole.MANAGER).post(action_url(campaign, "cancel")).status_code == 403
    assert api(campaign.brand, BrandRole.ANALYST).post(action_url(campaign, "submit")).status_code == 403
    response = api(campaign.brand, BrandRole.OWNER).post(action_url(campaign, "cancel"))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_analyst_reads_but_cannot_create() -> None:
    campaign = CampaignFactory(name="Visible")
    client = api(campaign.brand, BrandRole.ANALYST)

    assert client.get(campaigns_url(campaign.brand)).json()["results"][0]["name"] == "Visible"
    assert client.post(campaigns_url(campaign.brand), BODY, format="json").status_code == 403


def test_delete_only_drafts() -> None:
    draft = CampaignFactory()
    live = ready_campaign(brand=draft.brand, status=CampaignStatus.APPROVED)
    client = api(draft.brand)

    assert client.delete(action_url(live, "detail")).status_code == 409
    assert client.delete(action_url(draft, "detail")).status_code == 204
    assert list(Campaign.objects.all()) == [live]


def test_content_crud_and_media_upload() -> None:
    campaign = CampaignFactory(slug="api-roast")
    client = api(campaign.brand)
    base = reverse(
        "brand-campaign-content-list", kwargs={"brand_slug": campaign.brand.slug, "campaign_pk": campaign.pk}
    )

    created = client.post(
        base,
        {
            "title": "Launch",
            "target_url": "https://shop.example/",
            "hashtags": ["coffee"],
            "variants": [{"text": "Hello", "language": "en"}, {"text": "Hallo", "language": "de"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="c-1",
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["hashtags"] == ["#coffee"]
    assert data["target_url"].endswith("utm_campaign=api-roast")
    assert len(data["variants"]) == 2

    media_url = reverse(
        "brand-campaign-content-media",
        kwargs={"brand_slug": campaign.brand.slug, "campaign_pk": campaign.pk, "pk": data["id"]},
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(media_url, {"file": SimpleUploadedFile("a.png", b"<svg/>", "image/png")}, format="multipart")
    assert bad.status_code == 400
    assert bad.json()["field"] == "media"
    good = client.post(media_url, {"file": png_upload()}, format="multipart")
    assert good.status_code == 200
    assert good.json()["media_kind"] == "image"
    assert good.json()["thumbnail_url"]
    assert ContentPiece.objects.get().variants.count() == 2


def test_content_needs_a_text() -> None:
    campaign = CampaignFactory()
    base = reverse(
        "brand-campaign-content-list", kwargs={"brand_slug": campaign.brand.slug, "campaign_pk": campaign.pk}
    )

    response = api(campaign.brand).post(
        base, {"title": "x", "target_url": "https://a.example/", "variants": []}, format="json"
    )

    assert response.status_code == 400
    assert not ContentPiece.objects.exists()


def test_schema_documents_campaign_endpoints_and_errors() -> None:
    from django.test import Client

    schema = Client().get(reverse("api-schema") + "?format=json").json()
    path = schema["paths"]["/api/v1/brands/{brand_slug}/campaigns/{id}/submit/"]["post"]
    assert set(path["responses"]) >= {"200", "400", "403", "404", "409"}
    props = schema["components"]["schemas"]["CampaignInputRequest"]["properties"]
    assert "status" not in props
    assert "brand" not in props
    assert {"budget_minor", "cpm_minor", "cpe_minor", "cpc_minor", "networks", "disclosures"} <= set(props)


def test_preview_reports_fit_per_network() -> None:
    campaign = ready_campaign(networks=["x", "instagram"])

    response = api(campaign.brand, BrandRole.ANALYST).get(action_url(campaign, "preview"))

    assert response.status_code == 200
    networks = {n["network"]: n for n in response.json()[0]["variants"][0]["networks"]}
    assert networks["x"]["fits"] is True
    assert networks["x"]["caption"].startswith("#ad Our new autumn roast is here.")
    assert networks["instagram"]["fits"] is False
    assert networks["instagram"]["problems"] == ["Instagram needs an image or video."]


API_ACTIONS = {
    "submit": {"draft", "rejected"},
    "withdraw": {"in_review"},
    "pause": {"approved"},
    "resume": {"paused"},
    "cancel": {"draft", "in_review", "rejected", "approved", "paused"},
}


@pytest.mark.parametrize(
    ("action", "source"),
    [(a, s) for a, allowed in API_ACTIONS.items() for s in CampaignStatus.values if s not in allowed],
)
def test_every_refused_transition_answers_409(action: str, source: str) -> None:
    campaign = ready_campaign(status=source)

    response = api(campaign.brand, BrandRole.OWNER).post(action_url(campaign, action))

    assert response.status_code == 409
    assert "so it cannot be" in response.json()["detail"]
    campaign.refresh_from_db()
    assert campaign.status == source
