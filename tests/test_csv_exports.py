"""Every CSV the app serves neutralises spreadsheet formulas (CSV/formula injection).

A campaign name or a display name is typed by one person and opened in Excel or LibreOffice by
another: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula there. Every export goes through ``linkilike.csv_export``, which prefixes such cells with
``'``. The sweep below fails for a ``.csv`` route it does not know, so a new export must be added
here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from campaigns.earnings.services import earnings_accrue
from campaigns.models import Campaign, Share
from influencers.models import InfluencerProfile
from payouts.tests.helpers import delta, funded_campaign
from tests.factories.brands import MembershipFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\tTAB", "\rCR"]


def _world(payload: str) -> tuple[Campaign, InfluencerProfile, Share]:
    """A campaign and an influencer both named ``payload``, with one share and one booked earning."""
    campaign = funded_campaign(budget=100_000, name=payload)
    person: InfluencerProfile = InfluencerProfileFactory.create(display_name=payload)
    share: Share = ShareFactory.create(offer__match__campaign=campaign, offer__match__influencer=person)
    earnings_accrue(
        delta=delta(campaign, person, "2026-05-01/+24h", share=f"share-{share.pk}", engagements=10),
        now=timezone.now() - timedelta(days=1),
    )
    return campaign, person, share


def _campaign_results(client: Client, campaign: Campaign, person: InfluencerProfile) -> tuple[str, list[str]]:
    client.force_login(MembershipFactory(brand=campaign.brand).user)
    return reverse("campaigns:results-export", args=[campaign.brand.slug, campaign.pk]), ["campaign", "influencer"]


def _influencer_results(client: Client, campaign: Campaign, person: InfluencerProfile) -> tuple[str, list[str]]:
    client.force_login(person.user)
    return reverse("influencers:results-export"), ["campaign", "influencer"]


def _influencer_earnings(client: Client, campaign: Campaign, person: InfluencerProfile) -> tuple[str, list[str]]:
    client.force_login(person.user)
    return reverse("payouts:earnings-export"), ["campaign"]


#: url name -> (sign in, URL, the columns that carry the payload)
EXPORTS: dict[str, Callable[[Client, Campaign, InfluencerProfile], tuple[str, list[str]]]] = {
    "campaigns:results-export": _campaign_results,
    "influencers:results-export": _influencer_results,
    "payouts:earnings-export": _influencer_earnings,
}


def _csv_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and ".csv" in str(pattern.pattern):
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def _rows(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    reader = csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))
    return list(reader)


def test_every_csv_route_is_covered_by_this_test() -> None:
    assert _csv_url_names() == set(EXPORTS)


@pytest.mark.parametrize("export", sorted(EXPORTS))
@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_cells_that_would_start_a_formula_are_served_with_a_quote(client: Client, export: str, payload: str) -> None:
    campaign, person, _share = _world(payload)
    url, columns = EXPORTS[export](client, campaign, person)

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    assert rows
    for row in rows:
        for column in columns:
            assert row[column] == "'" + payload, (column, row)
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    assert response.streaming  # exports are streamed, never built in memory
