"""Writes for connected accounts: connecting, token health, profile refresh, disconnecting.

Calls to a network happen outside database transactions, except the token refresh, which holds
the account's row lock for the length of the call on purpose: two workers must never spend the
same refresh token.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from influencers.models import InfluencerProfile
from linkilike.safe_fetch import UnsafeFetch, address_check, safe_fetch
from networks.errors import ConnectError, InstanceUrlInvalid
from networks.jobs import account_reconsent_email_send
from networks.models import AccountStatus, ConnectedAccount, Network, OAuthApp
from networks.providers.exceptions import (
    AuthExpired,
    AuthRevoked,
    NetworkError,
    NotSupported,
)
from networks.providers.http import instance_address_policy, private_instances_allowed
from networks.providers.registry import handle_networks, provider_base_url, provider_class
from networks.providers.types import AccountRef, AuthStart, TokenSet
from networks.selectors import (
    oauth_app_credentials,
    provider_get_for_account,
    provider_get_for_network,
    token_set_get_for_account,
)

logger = logging.getLogger(__name__)

#: Renew tokens this long before they expire.
TOKEN_REFRESH_AHEAD = timedelta(minutes=30)
#: Warn the person this long before a token that cannot be renewed runs out.
RECONSENT_WARN_AHEAD = timedelta(days=7)
PROFILE_MAX_AGE = timedelta(hours=6)


# --- instances and apps ---------------------------------------------------------------


def _private_instances_allowed() -> bool:
    return private_instances_allowed()


def _is_public_host(host: str, port: int) -> bool:
    """A first answer for the form; the provider checks again on every connection (DNS can change)."""
    try:
        address_check(host, port, policy=instance_address_policy())
    except UnsafeFetch:
        return False
    return True


def instance_url_normalize(*, raw: str) -> str:
    """``mastodon.social`` / ``https://mastodon.social/@lena`` / ``@lena@mastodon.social`` -> ``https://mastodon.social``.

    A server's address is its scheme and host (with a port): a profile or post address pasted from the browser
    names the server too. Only the built-in sandbox, which lives under a path, keeps one. Outside development
    only public https servers are accepted: the server is fetched from Linkilike's side (S7).
    """
    value = raw.strip()
    if value.startswith("@") and value.count("@") == 2:  # @name@server
        value = value.rsplit("@", 1)[1]
    if "://" not in value:
        value = f"https://{value}"
    invalid = InstanceUrlInvalid(_("Enter the address of a Mastodon server, such as mastodon.social."))
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise invalid from error
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise invalid
    base = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    sandbox = sandbox_base_url() if sandbox_enabled() else ""
    if sandbox and f"{base}{parts.path.rstrip('/')}/".startswith(f"{sandbox}/"):
        return sandbox
    if _private_instances_allowed():
        return base
    if parts.scheme.lower() != "https" or not _is_public_host(parts.hostname, parts.port or 443):
        raise InstanceUrlInvalid(_("Only public servers reachable over https can be connected."))
    return base


#: A server that moved for good says so with these; a temporary redirect does not change its address.
PERMANENT_REDIRECTS = frozenset({301, 308})
#: How much of the server's answer is read while following it (the instance document is a few kB).
RESOLVE_MAX_BYTES = 512 * 1024


def instance_url_resolve(*, url: str) -> str:
    """The address ``url`` moved to for good, if it did: permanent redirects of its API are followed through the
    guarded fetcher (every hop checked like the address itself). Anything else keeps ``url``; connecting reports
    a server that does not answer in its own words."""
    if sandbox_enabled() and url == sandbox_base_url():
        return url
    try:
        result = safe_fetch(
            f"{url}/api/v2/instance",
            follow=PERMANENT_REDIRECTS,
            policy=instance_address_policy(),
            max_bytes=RESOLVE_MAX_BYTES,
            deadline_seconds=10,
        )
    except UnsafeFetch as error:
        logger.info("Could not follow %s: %s", url, error)
        return url
    if not result.redirects:
        return url
    moved = urlsplit(result.url)
    return instance_url_normalize(raw=f"{moved.scheme}://{moved.netloc}")


def oauth_app_get_or_register(*, network: str, instance_url: str, redirect_uri: str) -> OAuthApp:
    """Linkilike's app on ``instance_url``, registered on first use and cached."""
    existing = OAuthApp.objects.filter(network=network, instance_url=instance_url, redirect_uri=redirect_uri).first()
    if existing is not None:
        return existing
    provider = provider_get_for_network(network, base_url=instance_url)
    try:
        credentials = provider.register_app(redirect_uri=redirect_uri, website=settings.SITE_URL)
    except NetworkError as error:
        logger.warning("App registration on %s failed: %s", instance_url, error)
        raise ConnectError(_("We could not reach that server. Check the address and try again.")) from error
    app, _created = OAuthApp.objects.get_or_create(
        network=network,
        instance_url=instance_url,
        redirect_uri=redirect_uri,
        scopes=credentials.scopes,
        defaults={"client_id": credentials.client_id, "client_secret": credentials.client_secret},
    )
    return app


# --- connecting -----------------------------------------------------------------------


def account_connect_begin(*, network: str, instance_url: str, redirect_uri: str) -> AuthStart:
    """Prepare the authorisation redirect (registering the app on the server when needed)."""
    _network_available(network)
    cls = provider_class(network)
    client = None
    if cls.needs_app_registration:
        app = oauth_app_get_or_register(network=network, instance_url=instance_url, redirect_uri=redirect_uri)
        client = oauth_app_credentials(app)
    provider = provider_get_for_network(network, base_url=instance_url, client=client)
    return provider.begin_auth(redirect_uri=redirect_uri)


def account_connect_complete(
    *,
    influencer: InfluencerProfile,
    network: str,
    instance_url: str,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> ConnectedAccount:
    """Exchange the code, read the profile, store the account (creating or reconnecting it)."""
    _network_available(network)
    cls = provider_class(network)
    client = None
    if cls.needs_app_registration:
        app = OAuthApp.objects.filter(network=network, instance_url=instance_url, redirect_uri=redirect_uri).first()
        if app is None:
            raise ConnectError(_("This connection attempt is no longer valid. Please start again."))
        client = oauth_app_credentials(app)
    provider = provider_get_for_network(network, base_url=instance_url, client=client)
    try:
        tokens = provider.complete_auth(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        profile = provider.fetch_account(tokens=tokens)
    except NetworkError as error:
        logger.warning("Connecting a %s account on %s failed: %s", network, instance_url, error)
        raise ConnectError(_("The server did not accept the connection. Please try again.")) from error
    return connected_account_upsert(
        influencer=influencer, network=network, instance_url=instance_url, profile=profile, tokens=tokens
    )


@transaction.atomic
def connected_account_upsert(
    *,
    influencer: InfluencerProfile,
    network: str,
    instance_url: str,
    profile: AccountRef,
    tokens: TokenSet,
) -> ConnectedAccount:
    """Store a (re)connected account. A reconnect never loses a stored refresh token."""
    account = (
        ConnectedAccount.objects.select_for_update()
        .filter(influencer=influencer, network=network, instance_url=instance_url, external_id=profile.external_id)
        .first()
    )
    if account is None:
        account = ConnectedAccount(
            influencer=influencer, network=network, instance_url=instance_url, external_id=profile.external_id
        )
    now = timezone.now()
    account.handle = profile.handle[:300]
    account.display_name = profile.display_name[:200]
    account.profile_url = profile.profile_url[:500]
    account.avatar_url = profile.avatar_url[:500]
    account.followers_count = profile.followers_count
    account.profile_refreshed_at = now
    account.access_token = tokens.access_token
    if tokens.refresh_token:
        account.refresh_token = tokens.refresh_token
    account.token_scope = tokens.scope[:300]
    account.token_expires_at = tokens.expires_at
    account.token_refreshed_at = now
    account.status = AccountStatus.HEALTHY
    account.reconsent_warned_at = None
    account.last_error = ""
    account.last_error_at = None
    account.save()
    return account


def account_disconnect(*, account: ConnectedAccount) -> bool:
    """Withdraw the account's token at the network where Linkilike can, then remove the account.

    Returns False when the network did not confirm the withdrawal; the account is removed all the same (the
    person asked for it), and they can still withdraw Linkilike's access on the network themselves.
    """
    withdrawn = _token_withdraw(account)
    with transaction.atomic():
        ConnectedAccount.objects.filter(pk=account.pk).delete()
    return withdrawn


def _token_withdraw(account: ConnectedAccount) -> bool:
    if account.status == AccountStatus.REVOKED:
        return True  # the network already refuses the token
    try:
        provider = provider_get_for_account(account=account)
        provider.revoke(tokens=token_set_get_for_account(account=account))
    except NotSupported:
        return True  # the network has no such call: nothing Linkilike can withdraw
    except (NetworkError, ImproperlyConfigured) as error:
        logger.warning("Withdrawing the token of account %s on %s failed: %s", account.pk, account.network, error)
        return False
    return True


# --- health ---------------------------------------------------------------------------


@transaction.atomic
def account_network_error_record(*, account_id: int, error: NetworkError) -> ConnectedAccount | None:
    """Apply what a network error says about the account's authorisation. Callers re-raise as they see fit.

    ``AuthRevoked`` marks the account revoked, ``AuthExpired`` asks for a reconnect; other errors
    are only noted as the last error.
    """
    account = ConnectedAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        return None
    account.last_error = f"{type(error).__name__}: {error}"[:300]
    account.last_error_at = timezone.now()
    fields = ["last_error", "last_error_at", "updated_at"]
    if isinstance(error, AuthRevoked):
        account.status = AccountStatus.REVOKED
        fields.append("status")
    elif isinstance(error, AuthExpired) and account.status != AccountStatus.REVOKED:
        account.status = AccountStatus.NEEDS_RECONSENT
        fields.append("status")
    account.save(update_fields=fields)
    return account


def account_token_refresh(*, account_id: int, force: bool = False) -> bool:
    """Renew the account's access token if it is due. Returns True when a new token was stored.

    The row is locked with ``SKIP LOCKED`` for the whole exchange: a second worker finds it
    locked and does nothing, so one refresh token is never spent twice.
    """
    failure: NetworkError | None = None
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update(skip_locked=True).filter(pk=account_id).first()
        if account is None or not account.is_usable or not account.refresh_token:
            return False
        now = timezone.now()
        due = account.token_expires_at is not None and account.token_expires_at <= now + TOKEN_REFRESH_AHEAD
        if not (due or force):
            return False
        provider = provider_get_for_account(account=account)
        try:
            tokens = provider.refresh(tokens=token_set_get_for_account(account=account))
        except NotSupported:
            return False
        except NetworkError as error:
            failure = error
        else:
            account.access_token = tokens.access_token
            if tokens.refresh_token:
                account.refresh_token = tokens.refresh_token
            account.token_expires_at = tokens.expires_at
            account.token_scope = tokens.scope[:300] or account.token_scope
            account.token_refreshed_at = now
            account.status = AccountStatus.HEALTHY
            account.reconsent_warned_at = None
            account.last_error = ""
            account.save()
            return True
    account_network_error_record(account_id=account_id, error=failure)
    if failure.retryable:
        raise failure
    return False


@transaction.atomic
def account_reconsent_warn(*, account_id: int) -> bool:
    """Mark a token that cannot be renewed as expiring and email the person once.

    Past its expiry the account needs reconnecting. Returns True when an email was queued.
    """
    account = ConnectedAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None or account.token_expires_at is None or not account.is_usable:
        return False
    if account.token_expires_at <= timezone.now():
        account.status = AccountStatus.NEEDS_RECONSENT
        account.save(update_fields=["status", "updated_at"])
        return False
    account.status = AccountStatus.EXPIRING
    fields = ["status", "updated_at"]
    send = account.reconsent_warned_at is None
    if send:
        account.reconsent_warned_at = timezone.now()
        fields.append("reconsent_warned_at")
        transaction.on_commit(lambda: account_reconsent_email_send.delay(account_id))
    account.save(update_fields=fields)
    return send


def account_profile_refresh(*, account_id: int) -> ConnectedAccount | None:
    """Re-read handle, name and follower count from the network; a 401 marks the account revoked."""
    account = ConnectedAccount.objects.filter(pk=account_id).first()
    if account is None or not account.is_usable or account.network in handle_networks():
        return account  # an account connected by handle has no profile Linkilike may read
    provider = provider_get_for_account(account=account)
    try:
        profile = provider.fetch_account(tokens=token_set_get_for_account(account=account))
    except NetworkError as error:
        account_network_error_record(account_id=account_id, error=error)
        if error.retryable:
            raise
        return ConnectedAccount.objects.filter(pk=account_id).first()
    return _profile_store(account_id=account_id, profile=profile)


@transaction.atomic
def _profile_store(*, account_id: int, profile: AccountRef) -> ConnectedAccount | None:
    account = ConnectedAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        return None
    account.handle = profile.handle[:300]
    account.display_name = profile.display_name[:200]
    account.profile_url = profile.profile_url[:500]
    account.avatar_url = profile.avatar_url[:500]
    account.followers_count = profile.followers_count
    account.profile_refreshed_at = timezone.now()
    account.last_error = ""
    account.last_error_at = None
    account.save()
    return account


def sandbox_enabled() -> bool:
    """Whether the built-in demo network runs on this installation (off in production; ADR 17)."""
    return bool(settings.SANDBOX_ENABLED) and Network.SANDBOX in settings.NETWORK_PROVIDERS


def sandbox_base_url() -> str:
    """The demo network's address, or "" where it does not run."""
    return provider_base_url(Network.SANDBOX) if sandbox_enabled() else ""


def _network_available(network: str) -> None:
    """Refuse a network this installation does not run (the sandbox in production, an unlisted key)."""
    if network not in settings.NETWORK_PROVIDERS or (network == Network.SANDBOX and not sandbox_enabled()):
        raise ConnectError(_("This network is not available here."))
