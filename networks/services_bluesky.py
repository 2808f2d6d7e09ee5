"""Connecting a Bluesky account with its handle and an app password.

The password is sent once to the PDS (``createSession``) and never stored: Linkilike keeps only the
session (access + refresh JWT) in the encrypted ``ConnectedAccount`` columns, renewed with
``refreshSession`` by ``account_token_refresh``. Only app passwords are accepted: a session made with
the main password is ended again at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from influencers.models import InfluencerProfile
from networks.errors import ConnectError
from networks.models import ConnectedAccount, Network
from networks.providers.bluesky import BlueskyProvider
from networks.providers.exceptions import AuthExpired, AuthRevoked, NetworkError, RateLimited
from networks.selectors import provider_get_for_network
from networks.services import connected_account_upsert

logger = logging.getLogger(__name__)

#: Our own limit on connect attempts per person (Bluesky allows 30 logins / 5 min per account).
CONNECT_ATTEMPTS = 8
CONNECT_WINDOW = timedelta(minutes=15)


def _attempt_count(influencer: InfluencerProfile) -> int:
    key = f"networks:bluesky-connect:{influencer.pk}"
    cache.add(key, 0, timeout=int(CONNECT_WINDOW.total_seconds()))
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=int(CONNECT_WINDOW.total_seconds()))
        return 1


def bluesky_provider() -> BlueskyProvider:
    provider = provider_get_for_network(Network.BLUESKY)
    assert isinstance(provider, BlueskyProvider)  # noqa: S101 - settings.NETWORK_PROVIDERS wiring
    return provider


def bluesky_account_connect(*, influencer: InfluencerProfile, identifier: str, app_password: str) -> ConnectedAccount:
    """Log in with the app password once, read the profile, store the session (new or reconnected account)."""
    if _attempt_count(influencer) > CONNECT_ATTEMPTS:
        raise ConnectError(_("Too many attempts to connect a Bluesky account. Please wait 15 minutes."))
    provider = bluesky_provider()
    try:
        tokens = provider.create_session(identifier=identifier, password=app_password)
    except (AuthRevoked, AuthExpired) as error:
        logger.info("Bluesky refused a login for %s: %s", influencer.pk, error)
        raise ConnectError(
            _("Bluesky did not accept this handle and app password. Check both and try again.")
        ) from error
    except RateLimited as error:
        minutes = max(1, round(error.retry_after / 60))
        raise ConnectError(
            ngettext(
                "Bluesky has seen too many sign-ins for this account. Please try again in %(minutes)d minute.",
                "Bluesky has seen too many sign-ins for this account. Please try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        ) from error
    except NetworkError as error:
        if "AuthFactorTokenRequired" in str(error):
            raise ConnectError(_("Please use an app password, not your main Bluesky password.")) from error
        logger.warning("Connecting a Bluesky account failed: %s", error)
        raise ConnectError(_("Bluesky did not answer. Please try again in a few minutes.")) from error
    if not provider.is_app_password_session(tokens):
        provider.delete_session(tokens=tokens)
        raise ConnectError(
            _(
                "That is your main Bluesky password. Please create an app password in Bluesky "
                "(Settings, Privacy and security, App passwords) and enter that instead."
            )
        )
    try:
        profile = provider.fetch_account(tokens=tokens)
    except NetworkError as error:
        logger.warning("Reading a Bluesky profile failed: %s", error)
        raise ConnectError(_("Bluesky did not answer. Please try again in a few minutes.")) from error
    return connected_account_upsert(
        influencer=influencer, network=Network.BLUESKY, instance_url=provider.base_url, profile=profile, tokens=tokens
    )
