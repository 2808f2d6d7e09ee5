from __future__ import annotations

import factory

from campaigns.models import Campaign
from payouts.models import Charity, PayoutDestination
from tests.factories.brands import BrandFactory
from tests.factories.influencers import InfluencerProfileFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    """A priced campaign (EUR 6 CPM, 10 ct per engagement, 15 ct per click, 15 % fee)."""

    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    status = "approved"
    currency = "EUR"
    budget_minor = 10_000
    cpm_minor = 600
    cpe_minor = 10
    cpc_minor = 15
    platform_fee_bps = 1500


class PayoutDestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayoutDestination

    influencer = factory.SubFactory(InfluencerProfileFactory)
    kind = "sepa"
    holder_name = "Lena Berger"
    iban = "AT611904300234573201"
    bic = "BKAUATWW"
    fingerprint = factory.LazyAttribute(lambda o: f"iban:{o.iban}")
    verified_at = factory.Faker("date_time", tzinfo=__import__("datetime").UTC)


class CharityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Charity

    name = factory.Sequence(lambda n: f"Charity {n}")
    iban = "DE89370400440532013000"
    bic = "COBADEFFXXX"
