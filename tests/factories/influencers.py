from __future__ import annotations

import factory

from influencers.models import InfluencerProfile
from tests.factories.accounts import UserFactory


class InfluencerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InfluencerProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.Faker("name")
    country = "AT"
    languages = factory.LazyFunction(lambda: ["de", "en"])
