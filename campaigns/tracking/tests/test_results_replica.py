"""Results are read from the analytics replica where one is configured, and only there (ADR 16).

In tests the ``replica`` alias is a mirror of the test database: a second connection to the same
data, so a query's connection shows where the router sent it. The data is committed
(``transaction=True``) so that the second connection sees it.
"""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import BrandRole
from campaigns.models import Campaign
from campaigns.tracking.selectors import campaign_results_get_for_campaign
from linkilike.db_routing import analytics_reads
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, OfferFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _campaign() -> Campaign:
    campaign: Campaign = CampaignFactory.create(status="approved")
    for _ in range(2):
        ShareFactory(offer=OfferFactory(match__campaign=campaign, status="accepted"))
    return campaign


def _queries(function):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        result = function()
    return result, len(primary), len(replica)


def test_results_are_read_from_the_replica_when_one_is_configured(settings) -> None:
    settings.ANALYTICS_READS_DATABASE = "replica"
    campaign = _campaign()

    results, on_primary, on_replica = _queries(lambda: campaign_results_get_for_campaign(campaign=campaign))

    assert results.totals.shares == 2
    assert on_replica > 0
    assert on_primary == 0


def test_without_a_replica_everything_stays_on_the_primary() -> None:
    campaign = _campaign()

    results, on_primary, on_replica = _queries(lambda: campaign_results_get_for_campaign(campaign=campaign))

    assert results.totals.shares == 2
    assert on_primary > 0
    assert on_replica == 0


def test_inside_a_transaction_reads_stay_on_the_primary(settings) -> None:
    settings.ANALYTICS_READS_DATABASE = "replica"
    campaign = _campaign()

    def in_transaction():
        with transaction.atomic():
            return campaign_results_get_for_campaign(campaign=campaign)

    results, on_primary, on_replica = _queries(in_transaction)

    assert results.totals.shares == 2
    assert on_primary > 0
    assert on_replica == 0


def test_an_object_read_from_the_replica_is_written_to_the_primary(settings) -> None:
    settings.ANALYTICS_READS_DATABASE = "replica"
    campaign = _campaign()
    with analytics_reads():
        loaded = Campaign.objects.get(pk=campaign.pk)
    assert loaded._state.db == "replica"

    loaded.name = "Renamed"
    _, on_primary, on_replica = _queries(lambda: loaded.save(update_fields=["name"]))

    assert on_primary >= 1
    assert on_replica == 0


def test_the_results_tab_and_api_answer_from_the_replica(settings) -> None:
    settings.ANALYTICS_READS_DATABASE = "replica"
    campaign = _campaign()
    client = Client()
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)
    page = reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results"
    api = reverse("brand-campaign-results", args=[campaign.brand.slug, campaign.pk])

    for url in (page, api):
        response, on_primary, on_replica = _queries(lambda url=url: client.get(url))
        assert response.status_code == 200
        assert on_replica > 0  # the figures
        assert on_primary > 0  # the session, the membership check, the page around them
