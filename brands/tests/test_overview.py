"""Issue "What people see" 14: a new brand's overview says what to do first, and shows its logo."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from brands import services
from brands.models import Brand, BrandRole, Membership
from payouts.services.ledger import brand_fund
from tests.factories.brands import InvitationFactory, MembershipFactory
from tests.factories.campaigns import CampaignFactory, png_upload

pytestmark = pytest.mark.django_db


def _owner_of_new_brand() -> tuple[Brand, Client]:
    membership: Membership = MembershipFactory.create(role=BrandRole.OWNER)
    client = Client()
    client.force_login(membership.user)
    return membership.brand, client


def _checklist(client: Client, brand: Brand) -> dict[str, tuple[bool, str]]:
    """Each checklist item: (done, link), keyed by its test id."""
    html = client.get(reverse("brands:dashboard", args=[brand.slug])).content.decode()
    items = {}
    for match in re.finditer(r'<li[^>]*data-step="([\w-]+)"[^>]*data-done="(\w+)"[^>]*>(.*?)</li>', html, re.S):
        link = re.search(r'href="([^"]+)"', match.group(3))
        items[match.group(1)] = (match.group(2) == "true", link.group(1) if link else "")
    return items


def test_a_new_brand_sees_four_open_steps_with_links() -> None:
    brand, client = _owner_of_new_brand()

    items = _checklist(client, brand)

    assert items == {
        "profile": (False, reverse("brands:settings", args=[brand.slug])),
        "fund": (False, reverse("payouts:funds", args=[brand.slug])),
        "campaign": (False, reverse("campaigns:create", args=[brand.slug])),
        "invite": (False, reverse("brands:members", args=[brand.slug])),
    }


def test_each_step_is_done_from_real_data_and_the_list_goes_once_all_are() -> None:
    brand, client = _owner_of_new_brand()

    services.brand_update(brand=brand, website="https://nordlicht.example", logo=png_upload("logo.png"))
    assert _checklist(client, brand)["profile"][0] is True
    brand_fund(brand=brand, amount_minor=10_000, currency="EUR", source="card", reference="first")
    assert _checklist(client, brand)["fund"][0] is True
    CampaignFactory(brand=brand)
    assert _checklist(client, brand)["campaign"][0] is True
    InvitationFactory(brand=brand)
    assert _checklist(client, brand) == {}  # all done: the list makes room for the work itself


def test_the_uploaded_logo_is_shown_in_the_brand_header(settings: Any) -> None:
    brand, client = _owner_of_new_brand()
    services.brand_update(brand=brand, logo=png_upload("logo.png"))
    brand.refresh_from_db()

    html = client.get(reverse("brands:dashboard", args=[brand.slug])).content.decode()

    assert f'src="{brand.logo.url}"' in html
    assert brand.logo.url.startswith(settings.MEDIA_URL)
    # The campaigns list (any brand page) carries the same header.
    assert f'src="{brand.logo.url}"' in client.get(reverse("campaigns:list", args=[brand.slug])).content.decode()


def test_no_logo_no_broken_image() -> None:
    brand, client = _owner_of_new_brand()

    html = client.get(reverse("brands:dashboard", args=[brand.slug])).content.decode()

    assert "brand-logo" not in html


def test_analysts_see_the_steps_they_cannot_do_without_links() -> None:
    membership = MembershipFactory(role=BrandRole.ANALYST)
    client = Client()
    client.force_login(membership.user)

    items = _checklist(client, membership.brand)

    assert items["profile"] == (False, "")  # only owners edit the profile
    assert items["campaign"] == (False, "")
