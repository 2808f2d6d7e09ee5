from __future__ import annotations

import factory

from networks.models import AccountStatus, ConnectedAccount, Network
from tests.factories.influencers import InfluencerProfileFactory


class ConnectedAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConnectedAccount

    influencer = factory.SubFactory(InfluencerProfileFactory)
    network = Network.MASTODON
    instance_url = "https://mastodon.example"
    external_id = factory.Sequence(lambda n: str(100000 + n))
    handle = factory.Sequence(lambda n: f"@person{n}@mastodon.example")
    display_name = factory.Faker("name")
    followers_count = 120
    status = AccountStatus.HEALTHY
    access_token = factory.Sequence(lambda n: f"access-token-secret-{n}")
