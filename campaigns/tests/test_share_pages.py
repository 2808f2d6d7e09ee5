"""The influencer's shares page, the share-state partial, retry and proof forms, and the admin action."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import PublicationState, SharePublication
from campaigns.publishing import services
from networks.providers.exceptions import AuthRevoked, ContentRejected
from tests.doubles.publishing import RecordingProvider, ready_share, recording_settings
from tests.factories.accounts import UserFactory
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network(settings: Any) -> Any:
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"
    return RecordingProvider.reset()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def publication_of(network: Any, error: Exception | None = None) -> SharePublication:
    share = ready_share()
    publication = services.share_publication_schedule(share=share)
    assert publication is not None
    if error is not None:
        network.fail_before.append(error)
    services.publication_publish(publication_id=publication.pk)
    publication.refresh_from_db()
    return publication


def test_the_influencer_sees_published_and_failed_shares_with_reasons(network: Any) -> None:
    published = publication_of(network)
    failed = publication_of(network, AuthRevoked("401"))
    influencer = published.share.influencer
    failed.share.influencer = influencer
    failed.share.save()

    page = signed_in(influencer.user).get(reverse("influencers:shares")).content.decode()

    assert "Published" in page
    assert published.external_url in page
    assert "Reconnect the account" in page
    assert reverse("networks:accounts") in page  # where to reconnect
    assert reverse("influencers:share-retry", kwargs={"pk": failed.share_id}) in page
    assert reverse("influencers:share-retry", kwargs={"pk": published.share_id}) not in page


def test_no_retry_button_where_a_retry_is_not_safe(network: Any) -> None:
    publication = publication_of(network, ContentRejected("too long"))
    client = signed_in(publication.share.influencer.user)

    page = client.get(reverse("influencers:shares")).content.decode()
    assert "too long" in page
    assert "Try again" not in page
    response = client.post(reverse("influencers:share-retry", kwargs={"pk": publication.share_id}), follow=True)
    assert "cannot be tried again" in response.content.decode()
    publication.refresh_from_db()
    assert publication.state == PublicationState.FAILED


def test_retry_requeues_a_safe_failure(network: Any) -> None:
    publication = publication_of(network, AuthRevoked("401"))
    account = publication.share.connected_account
    account.status = "healthy"
    account.save()

    response = signed_in(publication.share.influencer.user).post(
        reverse("influencers:share-retry", kwargs={"pk": publication.share_id})
    )

    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.state == PublicationState.QUEUED


def test_another_influencers_share_is_404(network: Any) -> None:
    publication = publication_of(network, AuthRevoked("401"))
    stranger = InfluencerProfileFactory()
    client = signed_in(stranger.user)

    assert client.post(reverse("influencers:share-retry", kwargs={"pk": publication.share_id})).status_code == 404
    assert client.post(reverse("influencers:share-proof", kwargs={"pk": publication.share_id})).status_code == 404
    assert publication.share.campaign.name not in client.get(reverse("influencers:shares")).content.decode()


def test_staff_resolve_unknown_publications_from_the_admin(network: Any, settings: Any) -> None:
    settings.STAFF_MFA_REQUIRED = False
    publication = publication_of(network)
    SharePublication.objects.filter(pk=publication.pk).update(state=PublicationState.UNKNOWN)
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = signed_in(admin)

    listing = client.get(reverse("admin:campaigns_sharepublication_changelist") + "?state__exact=unknown")
    assert listing.status_code == 200
    assert publication.share.campaign.name in listing.content.decode()
    client.post(
        reverse("admin:campaigns_sharepublication_changelist"),
        {"action": "resolve_by_asking_the_network", "_selected_action": [publication.pk]},
    )

    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
    assert len(network.posts) == 1


def test_the_brand_can_retry_a_safe_failure_of_its_own_share(network: Any) -> None:
    from brands.models import BrandRole
    from tests.factories.brands import MembershipFactory

    publication = publication_of(network, AuthRevoked("401"))
    account = publication.share.connected_account
    account.status = "healthy"
    account.save()
    campaign = publication.share.campaign
    member = MembershipFactory(brand=campaign.brand, role=BrandRole.MANAGER)
    url = reverse("campaigns:share-retry", kwargs={"brand_slug": campaign.brand.slug, "pk": publication.share_id})

    response = signed_in(member.user).post(url)

    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.state == PublicationState.QUEUED


def test_a_share_waiting_for_proof_shows_the_share_link_the_text_and_the_form(network: Any) -> None:
    from tests.factories.networks import ConnectedAccountFactory

    account = ConnectedAccountFactory(network="proofonly", instance_url="https://proof.example", handle="@maria")
    share = ready_share(account=account)
    publication = services.share_publication_schedule(share=share)
    assert publication is not None

    page = signed_in(share.influencer.user).get(reverse("influencers:shares")).content.decode()

    assert "Waiting for you to post" in page
    assert "https://proof.example/share?text=" not in page  # not a Mastodon network: no guessed share page
    assert reverse("influencers:share-proof", kwargs={"pk": share.pk}) in page
    assert 'name="url"' in page
    assert "#ad" in page  # the text to post, with the disclosure
