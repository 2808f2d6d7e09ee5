"""Demo brand: Alpenglow Coffee with an owner and a manager."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.demo import DemoLogin, demo_user
from brands.models import Brand, BrandRole, Membership
from brands.services import brand_create, brand_demo_mark

DEMO_BRAND_SLUG = "alpenglow-coffee"


def seed_demo() -> list[DemoLogin]:
    owner = demo_user(email="owner@demo.linkilike.test", full_name="Olivia Owner")
    manager = demo_user(email="manager@demo.linkilike.test", full_name="Max Manager")
    brand = Brand.objects.filter(slug=DEMO_BRAND_SLUG).first()
    if brand is None:
        brand = brand_create(
            owner=owner,
            name="Alpenglow Coffee",
            country="AT",
            currency="EUR",
            category="coffee",
            website=settings.SITE_URL + reverse("brands:demo-page", kwargs={"slug": DEMO_BRAND_SLUG}),
        )
        if brand.slug != DEMO_BRAND_SLUG:
            brand.slug = DEMO_BRAND_SLUG
            brand.save(update_fields=["slug"])
    # Its campaign runs on the sandbox network, which only a demo brand may reach (also for a demo
    # database seeded before the flag existed).
    brand_demo_mark(brand=brand)
    Membership.objects.get_or_create(brand=brand, user=manager, defaults={"role": BrandRole.MANAGER})
    return [
        DemoLogin(role="Brand owner", email=owner.email),
        DemoLogin(role="Brand manager", email=manager.email),
    ]
