"""The capability matrix is generated from the providers' declarations, and connect pages follow it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from brands.models import BrandRole
from networks.capabilities import capability_matrix
from networks.providers.registry import provider_class
from networks.providers.x import XProvider
from tests.factories.brands import MembershipFactory
from tests.factories.influencers import InfluencerProfileFactory


@pytest.mark.django_db
def test_every_configured_provider_has_a_row_built_from_its_capabilities() -> None:
    rows = {row.network: row for row in capability_matrix()}

    assert set(rows) == set(settings.NETWORK_PROVIDERS)
    for network, row in rows.items():
        caps = provider_class(network).capabilities
        assert row.capabilities == caps
        assert (row.max_chars, row.max_images, row.video, row.reach_reported) == (
            caps.max_chars,
            caps.max_images,
            caps.video,
            caps.reach_reported,
        )
        assert len(row.metrics) == len(caps.metrics)


@pytest.mark.django_db
def test_a_changed_declaration_changes_the_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = replace(XProvider.capabilities, max_chars=4000, reach_reported=False)
    monkeypatch.setattr(XProvider, "capabilities", changed)

    row = next(row for row in capability_matrix() if row.network == "x")

    assert row.max_chars == 4000
    assert row.reach_reported is False


@pytest.mark.django_db
def test_x_shows_its_per_post_cost_and_engagement_only_networks_say_so() -> None:
    rows = {row.network: row for row in capability_matrix()}

    assert "0.20 USD" in rows["x"].cost_per_post
    assert rows["mastodon"].cost_per_post == "free"
    assert rows["mastodon"].reach_reported is False


@pytest.mark.django_db
def test_the_public_matrix_page_lists_every_network() -> None:
    page = Client().get(reverse("networks:matrix")).content.decode()

    for row in capability_matrix():
        assert row.label in page
    assert "about 0.20 USD per post" in page


@pytest.mark.django_db
def test_brands_see_the_matrix_when_choosing_networks() -> None:
    manager = MembershipFactory(role=BrandRole.MANAGER)
    client = Client()
    client.force_login(manager.user)

    page = client.get(reverse("campaigns:create", kwargs={"brand_slug": manager.brand.slug})).content.decode()

    assert "Compare networks" in page
    assert "about 0.20 USD per post" in page


@pytest.mark.django_db
def test_connecting_x_explains_when_staff_have_not_set_it_up(settings: Any) -> None:
    settings.X_CLIENT_ID = ""
    profile = InfluencerProfileFactory()
    client = Client()
    client.force_login(profile.user)
    url = reverse("networks:connect-oauth", kwargs={"network": "x"})

    page = client.get(url)
    refused = client.post(url, follow=True)

    assert "not set up on Linkilike yet" in page.content.decode()
    assert "not set up on Linkilike yet" in refused.content.decode()


@pytest.mark.django_db
def test_connecting_a_configured_network_goes_to_its_consent_page(settings: Any) -> None:
    settings.X_CLIENT_ID = "client"
    settings.X_CLIENT_SECRET = "secret"
    profile = InfluencerProfileFactory()
    client = Client()
    client.force_login(profile.user)

    response = client.post(reverse("networks:connect-oauth", kwargs={"network": "x"}))

    assert response.status_code == 302
    assert response["Location"].startswith("https://x.com/i/oauth2/authorize?")
    assert "code_challenge_method=S256" in response["Location"]


@pytest.mark.django_db
def test_unknown_networks_have_no_connect_page() -> None:
    profile = InfluencerProfileFactory()
    client = Client()
    client.force_login(profile.user)

    assert client.get(reverse("networks:connect-oauth", kwargs={"network": "myspace"})).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("bluesky", "/i/accounts/connect/bluesky/"),
        ("instagram", "/i/accounts/connect/instagram/"),
        ("x", "/i/accounts/connect/oauth/x/"),
    ],
)
def test_reconnect_leads_to_the_accounts_own_network(network: str, expected: str) -> None:
    from networks.models import AccountStatus
    from tests.factories.networks import ConnectedAccountFactory

    account = ConnectedAccountFactory(network=network, status=AccountStatus.REVOKED)
    client = Client()
    client.force_login(account.influencer.user)

    page = client.get(reverse("networks:accounts")).content.decode()

    assert f'href="{expected}" role="button">Reconnect' in page


@pytest.mark.django_db
def test_staff_enter_app_credentials_in_the_admin_and_the_network_becomes_available(settings: Any) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import connection

    from networks.models import NetworkAppCredential
    from tests.factories.accounts import UserFactory

    settings.X_CLIENT_ID = ""
    settings.X_CLIENT_SECRET = ""
    assert next(row for row in capability_matrix() if row.network == "x").configured is False
    staff = UserFactory(is_staff=True, is_superuser=True)
    TOTP.activate(staff, generate_totp_secret())
    admin_client = Client()
    admin_client.force_login(staff)

    response = admin_client.post(
        reverse("admin:networks_networkappcredential_add"),
        {"network": "x", "client_id": "staff-client", "secret": "s3cret-from-x"},
    )

    assert response.status_code == 302
    credential = NetworkAppCredential.objects.get(network="x")
    assert credential.client_secret == "s3cret-from-x"
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM networks_networkappcredential")
        assert "s3cret-from-x" not in cursor.fetchone()[0]
    change_page = admin_client.get(reverse("admin:networks_networkappcredential_change", args=[credential.pk]))
    assert "s3cret-from-x" not in change_page.content.decode()
    assert next(row for row in capability_matrix() if row.network == "x").configured is True
    influencer = InfluencerProfileFactory()
    client = Client()
    client.force_login(influencer.user)
    start = client.post(reverse("networks:connect-oauth", kwargs={"network": "x"}))
    assert "client_id=staff-client" in start["Location"]


@pytest.mark.django_db
def test_the_matrix_says_per_network_whether_own_engagement_is_left_out() -> None:
    rows = {row.network: row for row in capability_matrix()}

    for network in ("bluesky", "mastodon"):
        assert rows[network].own_engagement == "yes"
        assert "likes" in rows[network].own_engagement_metrics
        assert "replies" in rows[network].engagers_named
    assert "bookmarks" in rows["bluesky"].own_engagement_metrics
    for network in ("x", "instagram", "threads", "facebook", "linkedin", "tumblr"):
        if network in rows:
            assert rows[network].own_engagement == "no"
            assert rows[network].engagers_named == ()
    for network in rows:
        declared = provider_class(network).capabilities
        assert set(declared.own_engagement_metrics) <= set(declared.metrics) | {"likes", "shares", "replies", "quotes"}
    page = Client().get(reverse("networks:matrix")).content.decode()
    assert "Own engagement excluded" in page
