"""S4: an influencer can neither see nor change another influencer's offers or shares, on any route.

Every route named ``influencers:*`` whose URL names an object (any kwarg) is enumerated from
the URL configuration. Its view's ``model`` says what to create for the victim (see
``OWNED_OBJECTS``); the attacker, a different influencer, must get 404 for every HTTP method
the view implements (405 for the others) and no row may change. A new influencer route
whose model has no entry fails the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from campaigns.models import CampaignStatus, CaptionStatus, Offer, Share, ShareStatus
from influencers.models import InfluencerProfile
from influencers.ownership import InfluencerScope
from tests.factories.campaigns import MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory
from tests.test_tenancy_sweep import METHODS, Route, _database_fingerprint, _request, _view_class, all_routes

MARKER = "VICTIMSECRET"


def _offer(victim: InfluencerProfile) -> Offer:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, name=f"{MARKER} campaign", brief=f"{MARKER} brief")
    match = MatchFactory(campaign=campaign, influencer=victim, status="approved")
    return Offer.objects.create(match=match, campaign=campaign, influencer=victim, expires_at=campaign.ends_at)


def _share(victim: InfluencerProfile) -> Share:
    offer = _offer(victim)
    offer.status = "accepted"
    offer.save()
    return Share.objects.create(
        offer=offer,
        campaign=offer.campaign,
        influencer=victim,
        connected_account=ConnectedAccountFactory(influencer=victim, network="mastodon"),
        caption_text=f"#ad {MARKER} caption https://linkilike.app/t/AbCdEf12",
        caption_status=CaptionStatus.CHANGES_REQUESTED,
        brand_feedback=f"{MARKER} feedback",
        status=ShareStatus.AWAITING_CAPTION_APPROVAL,
    )


#: Model of an influencer-owned view -> how to make one for the victim.
OWNED_OBJECTS: dict[type[Model], Callable[[InfluencerProfile], Model]] = {Offer: _offer, Share: _share}


def influencer_object_routes() -> list[Route]:
    return [route for route in all_routes() if route.name.startswith("influencers:") and route.kwargs]


def test_sweep_finds_the_offer_routes() -> None:
    names = {route.name for route in influencer_object_routes()}
    assert {"influencers:offer-detail", "influencers:offer-decline", "influencers:share-resubmit"} <= names


@pytest.mark.parametrize("route", influencer_object_routes(), ids=lambda route: route.name)
def test_route_is_influencer_scoped(route: Route) -> None:
    view_class = _view_class(route.callback)
    assert view_class is not None, route.name
    assert issubclass(view_class, InfluencerScope), route.name
    assert view_class.get_queryset is InfluencerScope.get_queryset, f"{route.name} overrides the scoped hook"
    assert getattr(view_class, "model", None) in OWNED_OBJECTS, (
        f"{route.name}: add its model to OWNED_OBJECTS in tests/test_influencer_sweep.py"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("route", influencer_object_routes(), ids=lambda route: route.name)
def test_other_influencer_gets_404_and_changes_nothing(route: Route) -> None:
    view_class: Any = _view_class(route.callback)
    victim = InfluencerProfileFactory(display_name=f"{MARKER} victim")
    target = OWNED_OBJECTS[view_class.model](victim)
    attacker = InfluencerProfileFactory()
    ConnectedAccountFactory(influencer=attacker, network="mastodon")
    client = Client()
    client.force_login(attacker.user)
    url = reverse(route.name, kwargs=dict.fromkeys(route.kwargs, target.pk))

    before = _database_fingerprint()
    for method in METHODS:
        response = _request(client, method, url)
        # A method the view does not implement at all answers 405 (it names no object); every
        # method it implements must answer 404.
        implemented = method in view_class.http_method_names and hasattr(view_class, method)
        expected = {404} if implemented else {405}
        assert response.status_code in expected, f"{method.upper()} {url} -> {response.status_code}"
        assert MARKER not in response.content.decode(errors="replace")
    assert _database_fingerprint() == before, f"{route.name}: another influencer changed data"


@pytest.mark.django_db
def test_inbox_lists_none_of_another_influencers_offers() -> None:
    victim = InfluencerProfileFactory()
    _share(victim)
    _offer(victim)
    attacker = InfluencerProfileFactory()
    client = Client()
    client.force_login(attacker.user)

    for tab in ("new", "accepted", "declined", "expired"):
        response = client.get(reverse("influencers:offers") + f"?tab={tab}")
        assert response.status_code == 200
        assert MARKER not in response.content.decode()
    assert MARKER not in client.get(reverse("influencers:home")).content.decode()
