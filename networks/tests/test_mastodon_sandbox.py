"""The Mastodon adapter against the built-in sandbox, served by ``live_server`` over real HTTP.

The whole path a person takes: Linkilike's connect button, the sandbox consent page, the
callback; then publishing with an image, counts after the simulated audience reacted, rate
limits, revocation and Idempotency-Key duplicate suppression.
"""

from __future__ import annotations

import io
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone
from PIL import Image

from influencers.models import InfluencerProfile, Topic
from networks import services
from networks.models import AccountStatus, ConnectedAccount, Network, OAuthApp
from networks.providers.exceptions import AuthRevoked, RateLimited
from networks.providers.types import MediaItem, PostDraft
from networks.selectors import provider_get_for_account, token_set_get_for_account
from sandbox.models import SandboxStatus
from sandbox.services import community_seed
from sandbox.simulation import simulation_step
from sandbox.testing import consent_approve, signed_in_session
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def site(live_server: Any, settings: Any) -> str:
    settings.SITE_URL = live_server.url
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    settings.SANDBOX_MEDIA_PROCESSING_SECONDS = 0.3
    community_seed(size=60, seed=7)
    return str(live_server.url)


def connect_through_pages(site: str, *, handle: str = "lena_test") -> tuple[InfluencerProfile, ConnectedAccount]:
    """Click "Connect a Linkilike Sandbox account", approve on the consent page, land back."""
    influencer: InfluencerProfile = InfluencerProfileFactory()  # type: ignore[assignment]
    for slug in ("coffee", "food"):
        influencer.topics.add(Topic.objects.get_or_create(slug=slug)[0])
    browser = signed_in_session(influencer.user)
    click_connect_and_consent(site, browser, new_handle=handle)
    account = ConnectedAccount.objects.get(influencer=influencer)
    listing = browser.get(f"{site}/i/accounts/", timeout=10).text
    assert account.handle in listing
    assert "Healthy" in listing
    return influencer, account


def click_connect_and_consent(
    site: str, browser: requests.Session, *, account: str = "new", new_handle: str = ""
) -> None:
    page = browser.get(f"{site}/i/accounts/", timeout=10)
    assert page.status_code == 200
    csrf = CSRF_INPUT.search(page.text)
    assert csrf is not None
    start = browser.post(
        f"{site}/i/accounts/connect/sandbox/",
        data={"csrfmiddlewaretoken": csrf.group(1)},
        headers={"Referer": f"{site}/i/accounts/"},
        allow_redirects=False,
        timeout=10,
    )
    assert start.status_code == 302
    authorize_url = start.headers["Location"]
    assert authorize_url.startswith(f"{site}/sandbox/oauth/authorize?")
    assert "code_challenge_method=S256" in authorize_url
    callback = consent_approve(browser, authorize_url, account=account, new_handle=new_handle)
    assert callback.startswith(f"{site}/i/accounts/callback/?")
    landed = browser.get(callback, allow_redirects=False, timeout=10)
    assert landed.status_code == 302
    assert urlsplit(landed.headers["Location"]).path == "/i/accounts/"


def test_connect_publish_and_read_counts_after_the_simulation(
    site: str, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="networks.http")
    _influencer, account = connect_through_pages(site)
    assert account.network == Network.SANDBOX
    assert account.status == AccountStatus.HEALTHY
    assert account.handle == f"@lena_test@{urlsplit(site).netloc}"
    assert account.followers_count == settings.SANDBOX_NEW_ACCOUNT_FOLLOWERS
    assert OAuthApp.objects.filter(network=Network.SANDBOX).count() == 1

    provider = provider_get_for_account(account=account)
    tokens = token_set_get_for_account(account=account)
    draft = PostDraft(
        text="Morning pour-over with the new beans #coffee #ad",
        link="https://roastery.example.test/beans",
        media=(MediaItem(content=_png(), filename="beans.png", content_type="image/png", description="Beans"),),
    )
    result = provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1-attempt")
    status = SandboxStatus.objects.get(pk=int(result.external_id))
    assert status.media_attachments.count() == 1
    assert "https://roastery.example.test/beans" in status.text
    assert result.url.startswith(f"{site}/sandbox/@lena_test/")
    polls = [r.getMessage() for r in caplog.records if "/api/v1/media/" in r.getMessage()]
    assert any("-> 206 " in poll for poll in polls)  # still processing ...
    assert "-> 200 " in polls[-1]  # ... then ready, and only then the status was created
    assert not any(account.access_token in r.getMessage() for r in caplog.records)

    [before] = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id])
    assert (before.likes, before.shares, before.replies) == (0, 0, 0)
    simulation_step(now=timezone.now() + timedelta(hours=12), seed=7)
    [after] = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id])
    status.refresh_from_db()
    assert after.likes == status.favourites_count
    assert after.shares == status.reblogs_count
    assert after.replies == status.replies_count
    assert (after.likes or 0) + (after.shares or 0) + (after.replies or 0) > 0
    assert after.reach is None
    assert after.impressions is None


def test_duplicate_suppressed_by_idempotency_key(site: str) -> None:
    _influencer, account = connect_through_pages(site, handle="dupe_test")
    provider = provider_get_for_account(account=account)
    tokens = token_set_get_for_account(account=account)
    draft = PostDraft(text="Only once, please #coffee")
    first = provider.publish(tokens=tokens, draft=draft, idempotency_key="share-9-attempt")
    second = provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-9-attempt")
    assert first.external_id == second.external_id
    assert SandboxStatus.objects.filter(persona__handle="dupe_test").count() == 1


def test_rate_limit_429_with_reset_honoured(site: str, settings: Any) -> None:
    _influencer, account = connect_through_pages(site, handle="busy_test")
    settings.SANDBOX_RATE_LIMIT = 2
    settings.SANDBOX_RATE_LIMIT_PERIOD_SECONDS = 1
    provider = provider_get_for_account(account=account)
    tokens = token_set_get_for_account(account=account)

    def exhaust() -> None:
        for _ in range(5):
            provider.fetch_account(tokens=tokens)

    with pytest.raises(RateLimited) as caught:
        exhaust()
    limited = caught.value
    assert limited.retryable
    assert limited.reset_at is not None
    assert 1 <= limited.retry_after <= 2
    assert provider.last_rate_limit is not None
    assert provider.last_rate_limit.remaining == 0
    # Waiting until the announced reset is enough: the next call goes through.
    time.sleep(max(0.0, (limited.reset_at - datetime.now(UTC)).total_seconds()) + 0.05)
    assert provider.fetch_account(tokens=tokens).external_id == account.external_id


def test_revoked_token_marks_the_account_revoked_and_reconnecting_heals_it(site: str) -> None:
    influencer, account = connect_through_pages(site, handle="gone_test")
    app = OAuthApp.objects.get(network=Network.SANDBOX)
    revoke = requests.post(
        f"{site}/sandbox/oauth/revoke",
        data={"client_id": app.client_id, "client_secret": app.client_secret, "token": account.access_token},
        timeout=10,
    )
    assert revoke.status_code == 200
    provider = provider_get_for_account(account=account)
    with pytest.raises(AuthRevoked):
        provider.publish(
            tokens=token_set_get_for_account(account=account),
            draft=PostDraft(text="still there?"),
            idempotency_key="k",
        )
    services.account_profile_refresh(account_id=account.pk)
    account.refresh_from_db()
    assert account.status == AccountStatus.REVOKED
    browser = signed_in_session(influencer.user)
    assert "Revoked" in browser.get(f"{site}/i/accounts/", timeout=10).text
    # Reconnecting the same sandbox account on the consent page heals the same row.
    click_connect_and_consent(site, browser, account=account.external_id)
    account.refresh_from_db()
    assert account.status == AccountStatus.HEALTHY
    assert ConnectedAccount.objects.filter(influencer=influencer).count() == 1
    provider.publish(
        tokens=token_set_get_for_account(account=account), draft=PostDraft(text="back again"), idempotency_key="k"
    )
