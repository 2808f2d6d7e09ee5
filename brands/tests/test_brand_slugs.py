"""A brand's address never collides with a fixed route under /b/ (a brand called "New" is not /b/new/)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve, reverse

from brands import services
from brands.slugs import brand_reserved_slugs
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def test_the_reserved_words_are_read_from_the_url_patterns() -> None:
    # /b/new/ is the create form; nothing else sits beside /b/<brand_slug>/ today.
    assert "new" in brand_reserved_slugs()
    for word in brand_reserved_slugs():
        assert resolve(f"/b/{word}/").url_name != "dashboard", word


@pytest.mark.parametrize("word", sorted(brand_reserved_slugs()))
def test_a_brand_named_like_a_route_gets_another_address(word: str) -> None:
    owner = UserFactory()

    brand = services.brand_create(owner=owner, name=word.title(), country="AT")

    assert brand.slug == f"{word}-2"
    match = resolve(f"/b/{brand.slug}/")
    assert (match.url_name, match.kwargs) == ("dashboard", {"brand_slug": brand.slug})


def test_the_brand_called_new_opens_its_dashboard_not_the_create_form() -> None:
    client = Client()
    owner = UserFactory()
    client.force_login(owner)

    response = client.post(reverse("brands:create"), {"name": "New", "country": "AT", "currency": "EUR"}, follow=True)

    assert response.status_code == 200
    assert response.resolver_match.url_name == "dashboard"
    assert response.resolver_match.kwargs["brand_slug"] == "new-2"
