from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from brands.models import Brand, BrandRole, Invitation, Membership
from tests.factories.accounts import UserFactory


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    country = "AT"
    currency = "EUR"
    is_demo = False

    class Params:
        # ``BrandFactory(demo=True)``: a demo brand, the only kind whose campaigns reach sandbox accounts.
        demo = factory.Trait(is_demo=True)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    brand = factory.SubFactory(BrandFactory)
    user = factory.SubFactory(UserFactory)
    role = BrandRole.OWNER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    brand = factory.SubFactory(BrandFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = BrandRole.MANAGER
    invited_by = factory.SubFactory(UserFactory)
    nonce = factory.Faker("hexify", text="^" * 32)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
