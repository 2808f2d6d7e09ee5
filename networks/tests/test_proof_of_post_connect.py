"""Issue 21 part 2: the "you post, we verify" networks on /networks/, on the accounts page and connected by a
handle and profile address checked for form (no sign-in, no token); their share pages and what pays."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from influencers.models import InfluencerProfile
from networks.capabilities import capability_matrix
from networks.models import ConnectedAccount
from networks.providers import registry
from networks.selectors import connected_account_ids_with_stale_profile
from networks.services import account_profile_refresh

NETWORKS = ("facebook_profile", "instagram_personal", "tiktok", "linkedin_profile")
SHARE = "#ad Try it https://lnk.test/r/abc"


@pytest.mark.parametrize("network", NETWORKS)
def test_each_is_a_network_linkilike_may_not_post_to_and_reads_no_counts_of(network: str) -> None:
    cls = registry.provider_class(network)
    assert not cls.capabilities.api_posting_allowed
    assert cls.capabilities.metrics == ()
    info = registry.campaign_networks()[network]
    assert info.proof_of_post
    assert not info.reports_reach
    assert network in registry.handle_networks()


def test_share_pages_where_the_network_has_one() -> None:
    facebook = registry.share_intent_url("facebook_profile", text=SHARE)
    assert facebook is not None
    assert facebook.startswith("https://www.facebook.com/sharer/sharer.php?")
    assert parse_qs(urlsplit(facebook).query)["u"] == ["https://lnk.test/r/abc"]
    linkedin = registry.share_intent_url("linkedin_profile", text=SHARE)
    assert linkedin is not None
    assert linkedin.startswith("https://www.linkedin.com/sharing/share-offsite/?")
    assert parse_qs(urlsplit(linkedin).query)["url"] == ["https://lnk.test/r/abc"]
    # No web page posts a video from an address on TikTok; Instagram has no share page at all.
    assert registry.share_intent_url("tiktok", text=SHARE) is None
    assert registry.share_intent_url("instagram_personal", text=SHARE) is None


@pytest.mark.django_db
def test_the_matrix_says_you_post_we_verify_and_what_pays() -> None:
    rows = {row.network: row for row in capability_matrix()}
    for network in NETWORKS:
        assert rows[network].publishing == "You post, we verify"
        assert "Participation fee and the clicks" in rows[network].pays_for
        assert rows[network].configured
    assert "public embed" in rows["tiktok"].verification
    assert "public page" in rows["linkedin_profile"].verification
    assert "first real clicks" in rows["instagram_personal"].verification
    html = Client().get(reverse("networks:matrix")).content.decode()
    for label in (
        "Facebook (personal profile)",
        "Instagram (personal account)",
        "TikTok",
        "LinkedIn (personal profile)",
    ):
        assert label in html
    assert html.count("proof-of-post-badge") == len(NETWORKS)
    assert "clicks and participation only" in html


@pytest.mark.django_db
def test_the_accounts_page_offers_them(signed_in: Client) -> None:
    html = signed_in.get(reverse("networks:accounts")).content.decode()
    for network in NETWORKS:
        assert reverse("networks:connect-handle", kwargs={"network": network}) in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("network", "handle", "profile", "stored_handle", "stored_url"),
    [
        ("tiktok", "@lena.roasts", "", "@lena.roasts", "https://www.tiktok.com/@lena.roasts"),
        ("tiktok", "lena.roasts", "tiktok.com/@lena.roasts", "@lena.roasts", "https://www.tiktok.com/@lena.roasts"),
        (
            "instagram_personal",
            "lena.roasts",
            "https://instagram.com/lena.roasts/",
            "@lena.roasts",
            "https://www.instagram.com/lena.roasts/",
        ),
        (
            "facebook_profile",
            "lena.roasts",
            "https://m.facebook.com/lena.roasts",
            "@lena.roasts",
            "https://www.facebook.com/lena.roasts",
        ),
        (
            "linkedin_profile",
            "lena-roasts",
            "https://www.linkedin.com/in/lena-roasts/",
            "@lena-roasts",
            "https://www.linkedin.com/in/lena-roasts/",
        ),
    ],
)
def test_connecting_by_handle_and_profile_address(
    signed_in: Client,
    influencer: InfluencerProfile,
    network: str,
    handle: str,
    profile: str,
    stored_handle: str,
    stored_url: str,
) -> None:
    url = reverse("networks:connect-handle", kwargs={"network": network})
    page = signed_in.get(url)
    assert page.status_code == 200
    assert "You post, we verify" in page.content.decode()
    response = signed_in.post(url, {"handle": handle, "profile_url": profile})
    assert response.status_code == 302, response.content.decode()[-2000:]
    account = ConnectedAccount.objects.get(influencer=influencer, network=network)
    assert (account.handle, account.profile_url, account.access_token) == (stored_handle, stored_url, "")
    assert account.is_usable
    # Again: the same account, not a second one.
    signed_in.post(url, {"handle": handle, "profile_url": profile})
    assert ConnectedAccount.objects.filter(influencer=influencer, network=network).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("network", "handle", "profile", "problem"),
    [
        ("tiktok", "lena roasts", "", "without spaces"),
        ("tiktok", "lena", "https://www.tiktok.com/@someone", "does not belong to the handle"),
        ("tiktok", "lena", "https://evil.example/@lena", "address of your profile"),
        ("instagram_personal", "lena", "http://instagram.com/lena/", "address of your profile"),
        ("linkedin_profile", "lena-roasts", "https://www.linkedin.com/company/roasts/", "address of your profile"),
    ],
)
def test_a_handle_or_address_of_the_wrong_form_is_refused(
    signed_in: Client, network: str, handle: str, profile: str, problem: str
) -> None:
    url = reverse("networks:connect-handle", kwargs={"network": network})
    response = signed_in.post(url, {"handle": handle, "profile_url": profile})
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not ConnectedAccount.objects.filter(network=network).exists()


@pytest.mark.django_db
def test_only_these_networks_connect_by_handle(signed_in: Client) -> None:
    assert signed_in.get(reverse("networks:connect-handle", kwargs={"network": "mastodon"})).status_code == 404


@pytest.mark.django_db
def test_their_accounts_have_no_profile_to_read_or_refresh(signed_in: Client, influencer: InfluencerProfile) -> None:
    signed_in.post(reverse("networks:connect-handle", kwargs={"network": "tiktok"}), {"handle": "lena.roasts"})
    account = ConnectedAccount.objects.get(network="tiktok")
    assert account.pk not in connected_account_ids_with_stale_profile(
        before=timezone.now() + timezone.timedelta(days=9)
    )
    assert account_profile_refresh(account_id=account.pk) == account
    account.refresh_from_db()
    assert account.last_error == ""
    html = signed_in.get(reverse("networks:accounts")).content.decode()
    assert "Update now" not in html
    assert "Change handle" in html
