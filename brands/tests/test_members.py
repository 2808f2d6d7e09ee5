from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brands.models import Brand, BrandRole, Membership
from tests.factories.brands import MembershipFactory

pytestmark = pytest.mark.django_db


def _client(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_the_last_owner_cannot_leave() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)

    response = _client(owner).post(reverse("brands:leave", kwargs={"brand_slug": owner.brand.slug}), follow=True)

    assert "last owner cannot leave" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_the_last_owner_cannot_be_demoted() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)

    response = _client(owner).post(
        reverse("brands:member-role", kwargs={"brand_slug": owner.brand.slug, "pk": owner.pk}),
        {"role": BrandRole.ANALYST},
        follow=True,
    )

    assert "at least one owner" in response.content.decode()
    assert Membership.objects.get(pk=owner.pk).role == BrandRole.OWNER


def test_an_owner_can_leave_when_another_owner_remains() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    MembershipFactory(brand=owner.brand, role=BrandRole.OWNER)

    _client(owner).post(reverse("brands:leave", kwargs={"brand_slug": owner.brand.slug}))

    assert not Membership.objects.filter(pk=owner.pk).exists()


def test_owner_removes_a_member_who_then_loses_access() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    manager = MembershipFactory(brand=owner.brand, role=BrandRole.MANAGER)

    _client(owner).post(reverse("brands:member-remove", kwargs={"brand_slug": owner.brand.slug, "pk": manager.pk}))

    response = _client(manager).get(reverse("brands:dashboard", kwargs={"brand_slug": owner.brand.slug}))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "url_name", "method", "expected"),
    [
        (BrandRole.ANALYST, "brands:dashboard", "get", 200),
        (BrandRole.ANALYST, "brands:members", "get", 200),
        (BrandRole.ANALYST, "brands:members", "post", 403),
        (BrandRole.ANALYST, "brands:settings", "get", 403),
        (BrandRole.MANAGER, "brands:settings", "get", 403),
        (BrandRole.MANAGER, "brands:members", "post", 403),
        (BrandRole.OWNER, "brands:settings", "get", 200),
    ],
)
def test_role_permissions(role: str, url_name: str, method: str, expected: int) -> None:
    membership = MembershipFactory(role=role)
    url = reverse(url_name, kwargs={"brand_slug": membership.brand.slug})

    response = getattr(_client(membership), method)(url, {"email": "x@example.test", "role": "owner"})

    assert response.status_code == expected


def test_create_brand_makes_the_creator_its_owner() -> None:
    member = MembershipFactory()
    client = _client(member)

    response = client.post(reverse("brands:create"), {"name": "Fjord Socks", "country": "NO", "currency": "EUR"})

    brand = Brand.objects.get(name="Fjord Socks")
    assert response["Location"] == reverse("brands:dashboard", kwargs={"brand_slug": brand.slug})
    assert Membership.objects.get(brand=brand).role == BrandRole.OWNER


def test_create_brand_with_bad_input_keeps_what_was_typed() -> None:
    member = MembershipFactory()

    response = _client(member).post(reverse("brands:create"), {"name": "Fjord Socks", "country": "", "website": "nope"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Fjord Socks"' in page
    assert "This field is required." in page
    assert not Brand.objects.filter(name="Fjord Socks").exists()
