"""Brand pages: create/edit without JavaScript, htmx validation, refusals shown as messages, roles."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brands.models import Brand, BrandRole
from campaigns.models import MAX_INTEGER, Campaign, CampaignStatus, ContentPiece
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.campaigns import CampaignFactory, png_upload, ready_campaign

pytestmark = pytest.mark.django_db


def member_client(brand: Brand, role: str) -> Client:
    client = Client()
    client.force_login(MembershipFactory(brand=brand, role=role).user)
    return client


FORM = {
    "name": "Spring Roast",
    "brief": "Share our spring roast.",
    "currency": "EUR",
    "budget_minor": "1000.00",
    "cpe_minor": "0.10",
    "cpc_minor": "0.15",
    "starts_on": "2030-03-01",
    "ends_on": "2030-03-31",
    "networks": ["mastodon", "bluesky"],
    "languages": ["en", "de"],
    "disclosure_de": "#Anzeige",
    "countries": ["AT"],
    "followers_min": "500",
    "followers_max": "10000",
}


def test_manager_creates_a_campaign_without_javascript() -> None:
    brand = BrandFactory(currency="EUR")
    client = member_client(brand, BrandRole.MANAGER)

    response = client.post(reverse("campaigns:create", args=[brand.slug]), FORM)

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:detail", args=[brand.slug, campaign.pk])
    assert campaign.budget_minor == 100_000
    assert campaign.cpe_minor == 10
    assert campaign.cpm_minor is None
    assert campaign.disclosures == {"en": "#ad", "de": "#Anzeige"}
    assert campaign.starts_at is not None
    assert campaign.ends_at is not None
    assert campaign.ends_at > campaign.starts_at
    assert campaign.status == CampaignStatus.DRAFT


def test_form_cannot_set_status_brand_fee_or_spend() -> None:
    brand, other = BrandFactory(), BrandFactory()
    client = member_client(brand, BrandRole.MANAGER)

    client.post(
        reverse("campaigns:create", args=[brand.slug]),
        {
            **FORM,
            "status": "approved",
            "brand": other.pk,
            "platform_fee_bps": "0",
            "budget_spent_minor": "5",
            "approved_at": "2030-01-01",
        },
    )

    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.brand == brand
    assert campaign.platform_fee_bps == 1500
    assert campaign.approved_at is None


def test_missing_price_is_shown_inline() -> None:
    brand = BrandFactory()
    client = member_client(brand, BrandRole.MANAGER)

    response = client.post(reverse("campaigns:create", args=[brand.slug]), {**FORM, "cpe_minor": "", "cpc_minor": ""})

    assert response.status_code == 200
    assert "Set at least one price" in response.content.decode()
    assert not Campaign.objects.exists()


def test_htmx_validation_returns_the_form_part_with_calculator_and_saves_nothing() -> None:
    brand = BrandFactory()
    client = member_client(brand, BrandRole.MANAGER)

    response = client.post(
        reverse("campaigns:create", args=[brand.slug]),
        {**FORM, "followers_max": "10", "_validate": "1"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    # Out-of-band pieces only: the inputs being typed into are never replaced.
    assert 'id="id_followers_max_errors"' in html
    assert 'hx-swap-oob="true"' in html
    assert "<input" not in html
    assert "The maximum must not be below the minimum." in html
    assert "What the budget buys" in html
    assert not Campaign.objects.exists()


def test_calculator_figures_appear_for_a_priced_budget() -> None:
    brand = BrandFactory()
    client = member_client(brand, BrandRole.MANAGER)

    response = client.post(
        reverse("campaigns:create", args=[brand.slug]),
        {**FORM, "_validate": "1", "followers_min": "", "followers_max": ""},
        HTTP_HX_REQUEST="true",
    )

    # 1,000 EUR -> 869.56 for influencers; 5,000 followers -> 30 x 0.10 + 5 x 0.15 = 3.75 per share -> 231 shares.
    html = response.content.decode()
    assert "€869.56 for influencers" in html  # one money format: the sign, never "EUR" beside "€"
    assert "231" in html


def test_refused_transition_is_explained_on_the_page() -> None:
    campaign = ready_campaign(status=CampaignStatus.APPROVED)
    client = member_client(campaign.brand, BrandRole.MANAGER)

    response = client.post(reverse("campaigns:submit", args=[campaign.brand.slug, campaign.pk]), follow=True)

    assert "This campaign is approved, so it cannot be submitted for review." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.APPROVED


def test_submit_from_the_page() -> None:
    campaign = ready_campaign()
    client = member_client(campaign.brand, BrandRole.MANAGER)

    response = client.post(reverse("campaigns:submit", args=[campaign.brand.slug, campaign.pk]), follow=True)

    assert "Submitted for review" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_REVIEW


@pytest.mark.parametrize(
    ("role", "route", "expected"),
    [
        (BrandRole.ANALYST, "campaigns:create", 403),
        (BrandRole.ANALYST, "campaigns:submit", 403),
        (BrandRole.ANALYST, "campaigns:duplicate", 403),
        (BrandRole.ANALYST, "campaigns:archive", 403),
        (BrandRole.MANAGER, "campaigns:cancel", 403),
        (BrandRole.MANAGER, "campaigns:complete", 403),
        (BrandRole.MANAGER, "campaigns:submit", 302),
        (BrandRole.OWNER, "campaigns:cancel", 302),
    ],
)
def test_role_checks_per_action(role: str, route: str, expected: int) -> None:
    campaign = ready_campaign()
    client = member_client(campaign.brand, role)
    args: list[object] = [campaign.brand.slug] if route == "campaigns:create" else [campaign.brand.slug, campaign.pk]

    response = client.post(reverse(route, args=args), FORM if route == "campaigns:create" else {})

    assert response.status_code == expected


def test_owner_cancels_and_manager_sees_no_cancel_button() -> None:
    campaign = ready_campaign()
    manager = member_client(campaign.brand, BrandRole.MANAGER)
    owner = member_client(campaign.brand, BrandRole.OWNER)
    url = reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk])

    assert "Cancel campaign" not in manager.get(url).content.decode()
    assert "Cancel campaign" in owner.get(url).content.decode()
    owner.post(reverse("campaigns:cancel", args=[campaign.brand.slug, campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_analyst_reads_list_and_detail_but_sees_no_edit_actions() -> None:
    campaign = ready_campaign(name="Readable")
    client = member_client(campaign.brand, BrandRole.ANALYST)

    listing = client.get(reverse("campaigns:list", args=[campaign.brand.slug])).content.decode()
    detail = client.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk])).content.decode()

    assert "Readable" in listing
    assert "New campaign" not in listing
    assert "Submit for review" not in detail
    assert client.get(reverse("campaigns:edit", args=[campaign.brand.slug, campaign.pk])).status_code == 403


def test_empty_list_guides_the_first_campaign() -> None:
    brand = BrandFactory()
    client = member_client(brand, BrandRole.MANAGER)

    html = client.get(reverse("campaigns:list", args=[brand.slug])).content.decode()

    assert "No campaigns yet" in html
    assert reverse("campaigns:create", args=[brand.slug]) in html


def test_content_is_added_with_image_and_preview_is_shown() -> None:
    campaign = CampaignFactory(networks=["x", "instagram"], languages=["en"])
    client = member_client(campaign.brand, BrandRole.MANAGER)

    response = client.post(
        reverse("campaigns:content-create", args=[campaign.brand.slug, campaign.pk]),
        {
            "title": "Launch",
            "target_url": "https://shop.example/roast",
            "hashtags": "coffee #Linz",
            "media": png_upload(),
            "variant_1_text": "Fresh roast!",
            "variant_1_language": "en",
            "variant_2_text": "a" * 300,
            "variant_2_language": "en",
            "variant_3_text": "",
            "variant_3_language": "en",
        },
        follow=True,
    )

    html = response.content.decode()
    piece = ContentPiece.objects.get()
    assert piece.variants.count() == 2
    assert piece.thumbnail
    assert "#ad Fresh roast!" in html
    assert "Too long for X" in html
    assert "Links in Instagram captions are not clickable" in html


def test_bad_upload_is_shown_on_the_form() -> None:
    campaign = CampaignFactory()
    client = member_client(campaign.brand, BrandRole.MANAGER)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("campaigns:content-create", args=[campaign.brand.slug, campaign.pk]),
        {
            "title": "Launch",
            "target_url": "https://shop.example/",
            "media": SimpleUploadedFile("x.jpg", b"<html><body>hi</body></html>", "image/jpeg"),
            "variant_1_text": "Hi",
            "variant_1_language": "en",
            "variant_2_language": "en",
            "variant_3_language": "en",
        },
    )

    assert response.status_code == 200
    assert "web page or SVG" in response.content.decode()
    assert not ContentPiece.objects.exists()


def test_dashboard_shows_recent_campaigns_and_notices() -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, name="Shown on dashboard")
    from campaigns import services

    services.campaign_reject(campaign=campaign, reviewed_by=None, reason="Needs a sharper image.")
    client = member_client(campaign.brand, BrandRole.ANALYST)

    html = client.get(reverse("brands:dashboard", args=[campaign.brand.slug])).content.decode()

    assert "Shown on dashboard" in html
    assert "Needs a sharper image." in html


def test_duplicate_and_archive_from_the_page() -> None:
    campaign = ready_campaign(status=CampaignStatus.COMPLETED, name="Old")
    client = member_client(campaign.brand, BrandRole.MANAGER)

    client.post(reverse("campaigns:duplicate", args=[campaign.brand.slug, campaign.pk]))
    client.post(reverse("campaigns:archive", args=[campaign.brand.slug, campaign.pk]))

    listing = client.get(reverse("campaigns:list", args=[campaign.brand.slug])).content.decode()
    archived = client.get(reverse("campaigns:list", args=[campaign.brand.slug]) + "?archived=1").content.decode()
    assert "Copy of Old" in listing
    assert ">Old<" not in listing
    assert ">Old<" in archived


def test_content_form_live_preview_renders_unsaved_texts() -> None:
    campaign = CampaignFactory(networks=["x", "instagram"], languages=["en"], disclosures={"en": "#sponsored"})
    client = member_client(campaign.brand, BrandRole.MANAGER)

    response = client.post(
        reverse("campaigns:content-create", args=[campaign.brand.slug, campaign.pk]),
        {
            "_preview": "1",
            "hashtags": "coffee",
            "media_selected": "",
            "variant_1_text": "Try it",
            "variant_1_language": "en",
            "variant_2_text": "",
            "variant_2_language": "en",
        },
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert "#sponsored Try it" in html
    assert "#coffee" in html
    assert "Instagram needs an image or video." in html
    assert not ContentPiece.objects.exists()


def test_newly_chosen_language_gets_its_default_disclosure() -> None:
    brand = BrandFactory()
    client = member_client(brand, BrandRole.MANAGER)

    response = client.post(
        reverse("campaigns:create", args=[brand.slug]),
        {"name": "x", "currency": "EUR", "languages": ["de"], "_validate": "1"},
        HTTP_HX_REQUEST="true",
    )

    assert '<option value="#Werbung" selected>' in response.content.decode()


HTML_ACTIONS = {
    "submit": {"draft", "rejected"},
    "withdraw": {"in_review"},
    "pause": {"approved"},
    "resume": {"paused"},
    "complete": {"approved", "paused"},
    "cancel": {"draft", "in_review", "rejected", "approved", "paused"},
}


@pytest.mark.parametrize(
    ("action", "source"),
    [(a, s) for a, allowed in HTML_ACTIONS.items() for s in CampaignStatus.values if s not in allowed],
)
def test_every_refused_transition_shows_a_message(action: str, source: str) -> None:
    campaign = ready_campaign(status=source)
    client = member_client(campaign.brand, BrandRole.OWNER)

    response = client.post(reverse(f"campaigns:{action}", args=[campaign.brand.slug, campaign.pk]), follow=True)

    assert response.status_code == 200
    assert "so it cannot be" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == source


# Numbers larger than their database column are a field error on the campaign form, not a 500.
HUGE = "99999999999999999999"

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


def _url(brand: Brand, view: str) -> str:
    if view == "create":
        return reverse("campaigns:create", args=[brand.slug])
    campaign = CampaignFactory(brand=brand, status=CampaignStatus.DRAFT, name="Before")
    return reverse("campaigns:edit", args=[brand.slug, campaign.pk])


@pytest.mark.parametrize("view", ["create", "edit"])
@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_a_huge_number_is_a_field_error_and_the_other_input_stays(view: str, field: str) -> None:
    brand = BrandFactory(currency="EUR")
    client = member_client(brand, BrandRole.MANAGER)
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
    client = member_client(brand, BrandRole.MANAGER)
    url = reverse("campaigns:create", args=[brand.slug])
    data = {**FORM, "followers_min": "0", "followers_max": str(MAX_INTEGER)}

    response = client.post(url, {**data, field: str(MAX_INTEGER + 1)})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field)

    response = client.post(url, data)
    assert response.status_code == 302
    assert Campaign.objects.get().followers_max == MAX_INTEGER
