"""Factories for shares with tracking links, clicks and metric snapshots (tests and demo)."""

from __future__ import annotations

import secrets

import factory
from django.utils import timezone

from campaigns.models import Click, MetricSnapshot, Share, ShareStatus, TrackingLink
from tests.factories.campaigns import OfferFactory
from tests.factories.networks import ConnectedAccountFactory


class ShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Share

    offer = factory.SubFactory(OfferFactory, status="accepted")
    campaign = factory.SelfAttribute("offer.campaign")
    influencer = factory.SelfAttribute("offer.influencer")
    connected_account = factory.SubFactory(ConnectedAccountFactory, influencer=factory.SelfAttribute("..influencer"))
    caption_text = "Great coffee #ad"
    status = ShareStatus.READY


class TrackingLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingLink

    share = factory.SubFactory(ShareFactory)
    code = factory.LazyFunction(lambda: secrets.token_urlsafe(7))
    target_url = "https://example.com/offer?utm_source=linkilike&utm_medium=influencer&utm_campaign=c"


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    link = factory.SubFactory(TrackingLinkFactory)
    event_id = factory.LazyFunction(lambda: secrets.token_hex(16))
    occurred_at = factory.LazyFunction(timezone.now)
    ip_hash = factory.LazyFunction(lambda: secrets.token_hex(16))
    ua_hash = "0" * 32
    ua_family = "Firefox"
    billable = True


class MetricSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricSnapshot

    share = factory.SubFactory(ShareFactory)
    window = "+24h"
    collected_at = factory.LazyFunction(timezone.now)
    reach = 1000
    impressions = 1500
    engagements = 40
    likes = 30
    reposts = 10
