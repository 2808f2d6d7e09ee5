"""OAuth connect flow through the pages: state handling (S5), open redirects, ownership."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from influencers.models import InfluencerProfile
from networks import oauth
from networks.models import AccountStatus, ConnectedAccount
from networks.tests.mastodon_double import MastodonDouble
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db

CALLBACK = "/i/accounts/callback/"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


def start(client: Client, double: MastodonDouble, next_path: str = "") -> dict[str, str]:
    """POST the connect form; return the query the server's consent step sends back to the callback."""
    response = client.post(reverse("networks:connect-mastodon"), {"instance": double.url, "next": next_path})
    assert response.status_code == 302
    authorize = response["Location"]
    assert authorize.startswith(f"{double.url}/oauth/authorize?")
    params = parse_qs(urlsplit(authorize).query)
    assert params["code_challenge_method"] == ["S256"]
    assert params["redirect_uri"] == [f"http://testserver{CALLBACK}"]
    consent = requests.get(authorize, allow_redirects=False, timeout=5)
    location = urlsplit(consent.headers["Location"])
    assert location.path == CALLBACK
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def test_connect_mastodon_end_to_end(signed_in: Client, mastodon_double: MastodonDouble) -> None:
    answer = start(signed_in, mastodon_double)
    response = signed_in.get(CALLBACK, answer)
    assert response.status_code == 302
    assert response["Location"] == reverse("networks:accounts")
    account = ConnectedAccount.objects.get()
    assert account.status == AccountStatus.HEALTHY
    assert account.followers_count == 321
    page = signed_in.get(reverse("networks:accounts")).content.decode()
    assert f">{account.handle_local}</h3>" in page
    assert account.handle in page
    assert "321" in page
    assert "Healthy" in page
    assert account.access_token not in page


def test_missing_state_is_refused(signed_in: Client, mastodon_double: MastodonDouble) -> None:
    answer = start(signed_in, mastodon_double)
    response = signed_in.get(CALLBACK, {"code": answer["code"]})
    assert response.status_code == 400
    assert not ConnectedAccount.objects.exists()


def test_mismatched_state_is_refused(signed_in: Client, mastodon_double: MastodonDouble) -> None:
    answer = start(signed_in, mastodon_double)
    response = signed_in.get(CALLBACK, {"code": answer["code"], "state": answer["state"] + "x"})
    assert response.status_code == 400
    assert not ConnectedAccount.objects.exists()


def test_state_from_another_session_is_refused(
    signed_in: Client, mastodon_double: MastodonDouble, influencer: InfluencerProfile
) -> None:
    answer = start(signed_in, mastodon_double)
    other = Client()
    other.force_login(InfluencerProfileFactory().user)
    assert other.get(CALLBACK, answer).status_code == 400
    assert not ConnectedAccount.objects.exists()


def test_reused_state_is_refused(signed_in: Client, mastodon_double: MastodonDouble) -> None:
    answer = start(signed_in, mastodon_double)
    assert signed_in.get(CALLBACK, answer).status_code == 302
    ConnectedAccount.objects.all().delete()
    assert signed_in.get(CALLBACK, answer).status_code == 400
    assert not ConnectedAccount.objects.exists()


def test_expired_state_is_refused(
    signed_in: Client, mastodon_double: MastodonDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = start(signed_in, mastodon_double)
    later = oauth.time.time() + oauth.STATE_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(oauth.time, "time", lambda: later)
    response = signed_in.get(CALLBACK, answer)
    assert response.status_code == 400
    assert b"expired" in response.content
    assert not ConnectedAccount.objects.exists()


def test_denied_consent_connects_nothing(signed_in: Client, mastodon_double: MastodonDouble) -> None:
    answer = start(signed_in, mastodon_double)
    response = signed_in.get(CALLBACK, {"error": "access_denied", "state": answer["state"]})
    assert response.status_code == 302
    assert not ConnectedAccount.objects.exists()


def test_safe_next_is_followed(signed_in: Client, mastodon_double: MastodonDouble) -> None:
    answer = start(signed_in, mastodon_double, next_path="/i/?tab=offers")
    response = signed_in.get(CALLBACK, answer)
    assert response["Location"] == "/i/?tab=offers"


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        " //evil.example",
        "/\t/evil.example",
    ],
)
def test_next_open_redirects_are_refused(signed_in: Client, mastodon_double: MastodonDouble, hostile: str) -> None:
    answer = start(signed_in, mastodon_double, next_path=hostile)
    response = signed_in.get(CALLBACK, answer)
    assert response.status_code == 302
    assert response["Location"] == reverse("networks:accounts")


def test_safe_next_path_unit() -> None:
    assert oauth.safe_next_path("/i/accounts/") == "/i/accounts/"
    for hostile in ("//evil.example", "https://evil.example", "/\\evil.example", "", None, "evil", "/\x00x"):
        assert oauth.safe_next_path(hostile) == ""


def test_connect_form_rejects_non_http_instances(signed_in: Client) -> None:
    response = signed_in.post(reverse("networks:connect-mastodon"), {"instance": "ftp://files.example"})
    assert response.status_code == 200
    assert b"Enter the address of a Mastodon server" in response.content


def test_production_refuses_private_instances(signed_in: Client, settings: Any) -> None:
    settings.NETWORKS_ALLOW_PRIVATE_INSTANCES = False
    response = signed_in.post(reverse("networks:connect-mastodon"), {"instance": "http://127.0.0.1:9"})
    assert response.status_code == 200
    assert b"Only public servers" in response.content


def test_other_influencers_accounts_are_invisible_and_untouchable(signed_in: Client) -> None:
    foreign = ConnectedAccountFactory(handle="@ALPHASECRET@mastodon.example")
    assert b"ALPHASECRET" not in signed_in.get(reverse("networks:accounts")).content
    for name in ("networks:account-disconnect", "networks:account-refresh"):
        assert signed_in.post(reverse(name, args=[foreign.pk])).status_code == 404
    assert ConnectedAccount.objects.filter(pk=foreign.pk).exists()


def test_disconnect_own_account(signed_in: Client, influencer: InfluencerProfile) -> None:
    own = ConnectedAccountFactory(influencer=influencer)
    response = signed_in.post(reverse("networks:account-disconnect", args=[own.pk]))
    assert response.status_code == 302
    assert not ConnectedAccount.objects.filter(pk=own.pk).exists()


def test_accounts_page_needs_sign_in(client: Client) -> None:
    response = client.get(reverse("networks:accounts"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_accounts_page_shows_health(signed_in: Client, influencer: InfluencerProfile) -> None:
    ConnectedAccountFactory(influencer=influencer, handle="@gone@mastodon.example", status=AccountStatus.REVOKED)
    page = signed_in.get(reverse("networks:accounts")).content.decode()
    assert "@gone@mastodon.example" in page
    assert "Revoked" in page
    assert "Reconnect" in page
    assert "1 account needs your attention" in page or "One account needs your attention" in page


@pytest.mark.django_db
def test_pages_with_connect_forms_let_the_form_lead_to_a_consent_page_elsewhere() -> None:
    """Chromium applies CSP form-action to the redirect after the POST, so the page must allow https."""
    profile = InfluencerProfileFactory()
    client = Client()
    client.force_login(profile.user)

    for name in ("networks:accounts", "networks:connect-mastodon"):
        csp = client.get(reverse(name))["Content-Security-Policy"]
        form_action = next(part for part in csp.split(";") if "form-action" in part)
        assert "https:" in form_action
    landing_csp = client.get(reverse("landing"))["Content-Security-Policy"]
    assert "https:" not in next(part for part in landing_csp.split(";") if "form-action" in part)
