"""Reads: connected accounts, and the provider + tokens to act for one of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from influencers.models import InfluencerProfile
from networks.models import AccountStatus, ConnectedAccount, NetworkAppCredential, OAuthApp
from networks.providers.base import NetworkProvider
from networks.providers.http import HttpClient
from networks.providers.registry import handle_networks, provider_class, provider_get
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


def staff_client_credentials(network: str) -> ClientCredentials | None:
    """The app credentials staff entered in the admin for a fixed-URL network, if any."""
    credential = NetworkAppCredential.objects.filter(network=network).first()
    if credential is None:
        return None
    return ClientCredentials(client_id=credential.client_id, client_secret=credential.client_secret)


def provider_get_for_network(
    network: str, *, base_url: str = "", client: ClientCredentials | None = None, http: HttpClient | None = None
) -> NetworkProvider:
    """The provider of ``network``, with the staff-entered app credentials of a fixed-URL network unless
    ``client`` is given (a per-server network such as Mastodon registers its own app on each server)."""
    if client is None and not provider_class(network).per_instance:
        client = staff_client_credentials(network)
    return provider_get(network, base_url=base_url, client=client, http=http)


def provider_get_for_account(*, account: ConnectedAccount, http: HttpClient | None = None) -> NetworkProvider:
    """The provider that talks to ``account``'s server, with Linkilike's app there (for token refresh)."""
    app = (
        OAuthApp.objects.filter(network=account.network, instance_url=account.instance_url)
        .order_by("-created_at")
        .first()
    )
    client = oauth_app_credentials(app) if app is not None else None
    return provider_get_for_network(account.network, base_url=account.instance_url, http=http, client=client)


def token_set_get_for_account(*, account: ConnectedAccount) -> TokenSet:
    return TokenSet(
        access_token=account.access_token,
        refresh_token=account.refresh_token,
        expires_at=account.token_expires_at,
        scope=account.token_scope,
    )
