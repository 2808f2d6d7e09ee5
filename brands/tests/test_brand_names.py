"""Brand names reach email subjects: line breaks and other control characters are refused everywhere."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from brands import services
from brands.errors import BrandError
from brands.models import Brand, BrandRole
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Names cannot contain line breaks, tabs or other control characters."
HOSTILE_NAMES = [
    "Acme\r\nBcc: everyone@example.test",
    "Acme\nVerify your account at https://evil.example",
    "Acme\tLtd",
    "Acme\x00",
    "Acme\u2028Ltd",
    "Acme \u202egnp.exe",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_create_form_refuses_control_characters_and_keeps_the_input(name: str) -> None:
    client = Client()
    client.force_login(UserFactory())

    response = client.post(reverse("brands:create"), {"name": name, "country": "AT", "currency": "EUR"})

    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert response.context["form"].data["name"] == name
    assert not Brand.objects.exists()


def test_the_settings_form_refuses_a_line_break() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = Client()
    client.force_login(owner.user)

    response = client.post(
        reverse("brands:settings", kwargs={"brand_slug": owner.brand.slug}),
        {"name": "Acme\r\nBcc: everyone@example.test", "country": "AT", "currency": "EUR"},
    )

    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert Brand.objects.get(pk=owner.brand.pk).name == owner.brand.name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_api_refuses_control_characters_on_create(name: str) -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())

    response = client.post(reverse("api-brand-list"), {"name": name, "country": "AT"}, format="json")

    assert response.status_code == 400
    assert MESSAGE in response.json()["name"]
    assert not Brand.objects.exists()


def test_the_api_refuses_a_line_break_on_rename() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = APIClient()
    client.force_authenticate(owner.user)

    response = client.patch(
        reverse("api-brand-detail", kwargs={"brand_slug": owner.brand.slug}),
        {"name": "Acme\r\nBcc: everyone@example.test"},
        format="json",
    )

    assert response.status_code == 400
    assert MESSAGE in response.json()["name"]


def test_the_services_refuse_control_characters_for_every_caller() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)

    with pytest.raises(BrandError, match="control characters"):
        services.brand_create(owner=owner.user, name="Acme\r\nLtd", country="AT")
    with pytest.raises(BrandError, match="control characters"):
        services.brand_update(brand=owner.brand, name="Acme\nLtd")


def test_ordinary_names_pass_emoji_joiners_and_accents_included() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)

    brand = services.brand_update(brand=owner.brand, name="Café Müller 👩\u200d💻 & Söhne")

    assert brand.name == "Café Müller 👩\u200d💻 & Söhne"
