"""Connecting Meta accounts: the Facebook Login that ends with choosing a Page.

Instagram and Threads connect through the shared OAuth callback (``networks.services.account_connect_*``).
Facebook posts as a Page, with the Page's own token, so its login keeps the person's long-lived user
token only between the callback and the Page choice: encrypted (``networks.vault``) in the session, for
at most ``FACEBOOK_LOGIN_MAX_AGE_SECONDS``, removed once a Page is connected. Only the Page token is stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from influencers.models import InfluencerProfile
from networks import vault
from networks.errors import ConnectError
from networks.models import ConnectedAccount
from networks.providers.exceptions import NetworkError
from networks.providers.facebook import FacebookProvider, PageRef
from networks.providers.registry import provider_base_url
from networks.providers.types import TokenSet
from networks.selectors import provider_get_for_network
from networks.services import connected_account_upsert

logger = logging.getLogger(__name__)

FACEBOOK = "facebook"
SESSION_KEY = "networks_facebook_login"
FACEBOOK_LOGIN_MAX_AGE_SECONDS = 10 * 60


@dataclass(frozen=True)
class FacebookLogin:
    """A finished Facebook Login waiting for the Page choice (lives in the session, token encrypted)."""

    tokens: TokenSet
    next_path: str


def facebook_provider() -> FacebookProvider:
    provider = provider_get_for_network(FACEBOOK)
    if not isinstance(provider, FacebookProvider):
        raise ImproperlyConfigured("NETWORK_PROVIDERS['facebook'] must be a FacebookProvider")
    return provider


def facebook_login_complete(
    *, session: SessionBase, code: str, redirect_uri: str, code_verifier: str, next_path: str
) -> None:
    """Exchange the code for the person's long-lived user token and keep it, encrypted, for the Page choice."""
    provider = facebook_provider()
    try:
        tokens = provider.complete_auth(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
    except NetworkError as error:
        logger.warning("Facebook code exchange failed: %s", error)
        raise ConnectError(_("Facebook did not accept the connection. Please try again.")) from error
    session[SESSION_KEY] = {
        "token": vault.encrypt(tokens.access_token),
        "created_at": time.time(),
        "next": next_path,
    }


def facebook_login_get(*, session: SessionBase) -> FacebookLogin:
    """The pending login, or ConnectError when there is none or it is too old."""
    raw: dict[str, Any] | None = session.get(SESSION_KEY)
    if not raw or time.time() - float(raw.get("created_at", 0)) > FACEBOOK_LOGIN_MAX_AGE_SECONDS:
        session.pop(SESSION_KEY, None)
        raise ConnectError(_("This Facebook connection expired. Please start again."))
    return FacebookLogin(
        tokens=TokenSet(access_token=vault.decrypt(raw["token"])), next_path=str(raw.get("next") or "")
    )


def facebook_pages_list(*, login: FacebookLogin) -> list[PageRef]:
    """The Pages the person manages (``/me/accounts``)."""
    try:
        return facebook_provider().list_pages(tokens=login.tokens)
    except NetworkError as error:
        logger.warning("Listing Facebook Pages failed: %s", error)
        raise ConnectError(_("Facebook did not list your Pages. Please try again.")) from error


def facebook_page_connect(*, session: SessionBase, influencer: InfluencerProfile, page_id: str) -> ConnectedAccount:
    """Store the chosen Page with its Page token; the user token is forgotten."""
    login = facebook_login_get(session=session)
    pages = facebook_pages_list(login=login)
    page = next((candidate for candidate in pages if candidate.page_id == page_id), None)
    if page is None:
        raise ConnectError(_("Choose one of the Pages you manage."))
    provider = facebook_provider()
    tokens = provider.page_tokens(page)
    try:
        profile = provider.fetch_account(tokens=tokens)
    except NetworkError as error:
        logger.warning("Reading the Facebook Page %s failed: %s", page_id, error)
        raise ConnectError(_("Facebook did not accept the connection. Please try again.")) from error
    account = connected_account_upsert(
        influencer=influencer,
        network=FACEBOOK,
        instance_url=provider_base_url(FACEBOOK),
        profile=profile,
        tokens=tokens,
    )
    session.pop(SESSION_KEY, None)
    return account
