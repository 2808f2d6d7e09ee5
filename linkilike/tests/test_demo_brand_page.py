"""The demo's tracking links end on a page this app serves: a stand-in website for the demo brand.

The demo content used to link to https://alpenglow.example, a host that does not exist, so a click in
the demo ended on a browser error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from brands.demo import DEMO_BRAND_SLUG
from brands.demo import seed_demo as seed_brand
from campaigns.demo import DEMO_CAMPAIGN_NAME
from campaigns.demo import seed_demo as seed_campaign
from campaigns.models import ContentPiece
from tests.factories.brands import BrandFactory

pytestmark = pytest.mark.django_db


def test_demo_content_links_to_a_page_of_this_app_that_answers(settings: Any) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    seed_brand()
    seed_campaign()

    piece = ContentPiece.objects.get(campaign__name=DEMO_CAMPAIGN_NAME)
    target = urlsplit(piece.target_url)
    assert f"{target.scheme}://{target.netloc}" == settings.SITE_URL
    assert "utm_campaign=" in target.query

    response = Client().get(f"{target.path}?{target.query}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alpenglow Coffee" in page
    assert "demo" in page.lower()


def test_the_stand_in_page_exists_for_demo_brands_only() -> None:
    real = BrandFactory(slug="nordlicht-tea")
    demo = BrandFactory(slug=DEMO_BRAND_SLUG, demo=True)

    assert Client().get(reverse("brands:demo-page", args=[real.slug])).status_code == 404
    assert Client().get(reverse("brands:demo-page", args=[demo.slug])).status_code == 200
