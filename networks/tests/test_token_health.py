"""Token health: refresh under a row lock, refresh tokens never lost, revocation, reconnect warnings."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from celery.exceptions import Retry
from django.core import mail
from django.db import connection
from django.utils import timezone

from networks import services, tasks
from networks.models import AccountStatus, ConnectedAccount
from networks.providers.types import AccountRef, TokenSet
from networks.selectors import provider_get_for_account, token_set_get_for_account
from networks.tests.mastodon_double import MastodonDouble
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

REDIRECT = "http://testserver/i/accounts/callback/"


@pytest.fixture
def refreshing(settings: Any, mastodon_double: MastodonDouble) -> MastodonDouble:
    settings.NETWORK_PROVIDERS = {
        **settings.NETWORK_PROVIDERS,
        "mastodon": {"class": "networks.tests.refreshing_provider.RefreshingProvider"},
    }
    mastodon_double.state.token_expires_in = 3600
    return mastodon_double


def connect(double: MastodonDouble) -> ConnectedAccount:
    influencer = InfluencerProfileFactory()
    start = services.account_connect_begin(network="mastodon", instance_url=double.url, redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    return services.account_connect_complete(
        influencer=influencer,
        network="mastodon",
        instance_url=double.url,
        code=code,
        code_verifier=start.code_verifier,
        redirect_uri=REDIRECT,
    )


def make_due(account: ConnectedAccount) -> None:
    ConnectedAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now() + timedelta(minutes=5))


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_refresh_the_same_token(refreshing: MastodonDouble) -> None:
    account = connect(refreshing)
    old_access = account.access_token
    make_due(account)
    refreshing.state.refresh_delay = 0.5
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(services.account_token_refresh(account_id=account.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False, True]
    assert refreshing.state.refresh_calls == 1
    account.refresh_from_db()
    assert account.access_token != old_access
    assert account.status == AccountStatus.HEALTHY
    assert account.token_expires_at is not None
    assert account.token_expires_at > timezone.now() + timedelta(minutes=50)
    # The renewed token works against the server.
    provider = provider_get_for_account(account=account)
    assert provider.fetch_account(tokens=token_set_get_for_account(account=account)).followers_count == 321


@pytest.mark.django_db
def test_token_not_due_is_left_alone(refreshing: MastodonDouble) -> None:
    account = connect(refreshing)
    assert services.account_token_refresh(account_id=account.pk) is False
    assert refreshing.state.refresh_calls == 0


@pytest.mark.django_db
def test_refresh_keeps_refresh_token_when_the_answer_has_none(refreshing: MastodonDouble) -> None:
    account = connect(refreshing)
    stored_refresh = account.refresh_token
    refreshing.state.issue_new_refresh_token = False
    make_due(account)
    tasks.tokens_refresh_due.delay()
    account.refresh_from_db()
    assert refreshing.state.refresh_calls == 1
    assert account.refresh_token == stored_refresh
    make_due(account)
    assert services.account_token_refresh(account_id=account.pk) is True  # and it still works


@pytest.mark.django_db
def test_reconnect_never_loses_the_stored_refresh_token() -> None:
    account = ConnectedAccountFactory(refresh_token="stored-refresh-token")
    profile = AccountRef(external_id=account.external_id, handle=account.handle, followers_count=999)
    services.connected_account_upsert(
        influencer=account.influencer,
        network=account.network,
        instance_url=account.instance_url,
        profile=profile,
        tokens=TokenSet(access_token="new-access-token"),
    )
    account.refresh_from_db()
    assert account.refresh_token == "stored-refresh-token"
    assert account.access_token == "new-access-token"
    assert account.followers_count == 999
    assert ConnectedAccount.objects.count() == 1


@pytest.mark.django_db
def test_refused_refresh_asks_for_reconnect(refreshing: MastodonDouble) -> None:
    account = connect(refreshing)
    refreshing.state.refresh_tokens.clear()  # the network forgot the refresh token
    make_due(account)
    assert services.account_token_refresh(account_id=account.pk) is False
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONSENT
    assert "refresh token refused" in account.last_error


@pytest.mark.django_db
def test_revoked_token_marks_account_revoked(mastodon_double: MastodonDouble) -> None:
    account = connect(mastodon_double)
    mastodon_double.revoke_all()
    services.account_profile_refresh(account_id=account.pk)
    account.refresh_from_db()
    assert account.status == AccountStatus.REVOKED
    assert "AuthRevoked" in account.last_error


@pytest.mark.django_db
def test_profile_refresh_updates_follower_count(mastodon_double: MastodonDouble) -> None:
    account = connect(mastodon_double)
    mastodon_double.state.followers_count = 512
    ConnectedAccount.objects.filter(pk=account.pk).update(profile_refreshed_at=timezone.now() - timedelta(days=1))
    tasks.profiles_refresh_stale.delay()
    account.refresh_from_db()
    assert account.followers_count == 512


@pytest.mark.django_db
def test_unrenewable_token_warns_once_then_needs_reconnect(django_capture_on_commit_callbacks: Any) -> None:
    account = ConnectedAccountFactory(token_expires_at=timezone.now() + timedelta(days=3), refresh_token="")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tokens_refresh_due.delay()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tokens_refresh_due.delay()
    account.refresh_from_db()
    assert account.status == AccountStatus.EXPIRING
    assert len(mail.outbox) == 1
    assert account.handle in mail.outbox[0].subject
    assert "/i/accounts/" in mail.outbox[0].body
    ConnectedAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now() - timedelta(minutes=1))
    tasks.tokens_refresh_due.delay()
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONSENT


@pytest.mark.django_db
def test_rate_limited_refresh_waits_for_the_announced_reset(
    mastodon_double: MastodonDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = connect(mastodon_double)
    mastodon_double.state.rate_remaining = 0
    mastodon_double.state.rate_reset_in = 42
    scheduled: dict[str, Any] = {}

    def retry(*, exc: Exception, countdown: int) -> Exception:
        scheduled.update(exc=exc, countdown=countdown)
        return Retry()

    monkeypatch.setattr(tasks.account_profile_refresh, "retry", retry)
    with pytest.raises(Retry):
        tasks.account_profile_refresh.delay(account.pk)
    assert 41 <= scheduled["countdown"] <= 43
    account.refresh_from_db()
    assert account.status == AccountStatus.HEALTHY  # a rate limit says nothing about the authorisation
    assert account.last_error.startswith("RateLimited")
