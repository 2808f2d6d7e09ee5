"""Reads: connected accounts, and the provider + tokens to act for one of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from influencers.models import InfluencerProfile
from networks.models import AccountStatus, ConnectedAccount, OAuthApp
from networks.providers.base import NetworkProvider
from networks.providers.http import HttpClient
from networks.providers.registry import handle_networks, provider_get
from networks.providers.types import ClientCredentials, TokenSet


def connected_account_list_for_influencer(*, influencer: InfluencerProfile) -> QuerySet[ConnectedAccount]:
    return ConnectedAccount.objects.filter(influencer=influencer).order_by("network", "handle")


def connected_account_list_usable_for_influencer(*, influencer: InfluencerProfile) -> QuerySet[ConnectedAccount]:
    return connected_account_list_for_influencer(influencer=influencer).filter(
        status__in=(AccountStatus.HEALTHY, AccountStatus.EXPIRING)
    )


def connected_account_ids_due_for_refresh(*, now: datetime, ahead: timedelta) -> list[int]:
    """Accounts whose token expires within ``ahead`` and that can still be renewed without the person."""
    return list(
        ConnectedAccount.objects.filter(
            status__in=(AccountStatus.HEALTHY, AccountStatus.EXPIRING),
            token_expires_at__isnull=False,
            token_expires_at__lte=now + ahead,
        )
        .exclude(refresh_token="")
        .values_list("pk", flat=True)
    )


def connected_account_ids_needing_warning(*, now: datetime, ahead: timedelta) -> list[int]:
    """Accounts whose token runs out within ``ahead`` with no way to renew it: the person must reconnect."""
    return list(
        ConnectedAccount.objects.filter(
            status__in=(AccountStatus.HEALTHY, AccountStatus.EXPIRING),
            token_expires_at__isnull=False,
            token_expires_at__lte=now + ahead,
            refresh_token="",
        ).values_list("pk", flat=True)
    )


def connected_account_ids_with_stale_profile(*, before: datetime) -> list[int]:
    """Accounts whose profile is read again; not those connected by handle, which have nothing to read."""
    return list(
        ConnectedAccount.objects.filter(status__in=(AccountStatus.HEALTHY, AccountStatus.EXPIRING))
        .filter(Q(profile_refreshed_at__isnull=True) | Q(profile_refreshed_at__lt=before))
        .exclude(network__in=handle_networks())
        .values_list("pk", flat=True)
    )


def oauth_app_credentials(app: OAuthApp) -> ClientCredentials:
    return ClientCredentials(
        client_id=app.client_id, client_secret=app.client_secret, redirect_uri=app.redirect_uri, scopes=app.scopes
    )


def provider_get_for_account(*, account: ConnectedAccount, http: HttpClient | None = None) -> NetworkProvider:
    """The provider that talks to ``account``'s server, with Linkilike's app there (for token refresh)."""
    app = (
        OAuthApp.objects.filter(network=account.network, instance_url=account.instance_url)
        .order_by("-created_at")
        .first()
    )
    client = oauth_app_credentials(app) if app is not None else None
    return provider_get(account.network, base_url=account.instance_url, http=http, client=client)


def token_set_get_for_account(*, account: ConnectedAccount) -> TokenSet:
    return TokenSet(
        access_token=account.access_token,
        refresh_token=account.refresh_token,
        expires_at=account.token_expires_at,
        scope=account.token_scope,
    )
