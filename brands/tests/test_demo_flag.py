"""``Brand.is_demo`` opens the sandbox network to a brand's campaigns, so no brand member can set it.

Not through the brand forms, the API, the services the views call, nor the admin (read-only there);
only the demo seed (``brands.services.brand_demo_mark``) does.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from brands import services
from brands.admin import BrandAdmin
from brands.demo import DEMO_BRAND_SLUG, seed_demo
from brands.forms import BrandForm
from brands.models import Brand, BrandRole
from tests.factories.accounts import UserFactory
from tests.factories.brands import BrandFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_new_brand_is_not_a_demo_brand() -> None:
    assert not BrandFactory().is_demo
    assert not services.brand_create(owner=UserFactory(), name="Kite Labs", country="DE").is_demo


def test_the_web_forms_cannot_set_it() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = Client()
    client.force_login(owner.user)

    client.post(reverse("brands:create"), {"name": "Fjord Socks", "country": "NO", "currency": "EUR", "is_demo": "on"})
    client.post(
        reverse("brands:settings", kwargs={"brand_slug": owner.brand.slug}),
        {"name": "Renamed", "country": "AT", "currency": "EUR", "is_demo": "on"},
    )

    assert "is_demo" not in BrandForm.base_fields
    assert Brand.objects.get(name="Fjord Socks").is_demo is False
    owner.brand.refresh_from_db()
    assert owner.brand.name == "Renamed"  # the form was taken, the flag was not
    assert owner.brand.is_demo is False


def test_the_api_cannot_set_it() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = APIClient()
    client.force_authenticate(owner.user)

    created = client.post(reverse("api-brand-list"), {"name": "Kite Labs", "country": "DE", "is_demo": True})
    updated = client.patch(
        reverse("api-brand-detail", kwargs={"brand_slug": owner.brand.slug}), {"is_demo": True}, format="json"
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert not Brand.objects.filter(is_demo=True).exists()


@pytest.mark.parametrize("service", ["brand_create", "brand_update"])
def test_the_services_behind_forms_and_api_refuse_it(service: str) -> None:
    kwargs: dict[str, Any] = (
        {"owner": UserFactory(), "name": "Kite Labs", "country": "DE"}
        if service == "brand_create"
        else {"brand": BrandFactory()}
    )
    with pytest.raises(TypeError, match="is_demo"):
        getattr(services, service)(is_demo=True, **kwargs)


def test_the_admin_shows_it_read_only(rf: Any, admin_user: Any) -> None:
    from django.contrib import admin

    request = rf.get("/admin/brands/brand/")
    request.user = admin_user
    model_admin = BrandAdmin(Brand, admin.site)

    assert "is_demo" in model_admin.get_readonly_fields(request, BrandFactory())
    assert "is_demo" not in model_admin.get_form(request, BrandFactory()).base_fields


def test_the_demo_seed_makes_the_demo_brand_a_demo_brand() -> None:
    seed_demo()
    brand = Brand.objects.get(slug=DEMO_BRAND_SLUG)
    assert brand.is_demo
    Brand.objects.filter(pk=brand.pk).update(is_demo=False)  # a demo database seeded before the flag

    seed_demo()

    assert Brand.objects.get(slug=DEMO_BRAND_SLUG).is_demo


def test_the_browser_journey_marks_its_brands_by_name(monkeypatch: Any) -> None:
    """The journey's brands sign up through the pages and are made demo brands by a test-only step."""
    from django.core.management import call_command

    monkeypatch.setenv("LINKILIKE_JOURNEY", "1")
    brand, other = BrandFactory(name="Alpenröst"), BrandFactory()

    call_command("journey_step", "demo_brand", "--brand", "Alpenröst")

    brand.refresh_from_db()
    other.refresh_from_db()
    assert (brand.is_demo, other.is_demo) == (True, False)
