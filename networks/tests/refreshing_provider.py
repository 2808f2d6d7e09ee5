"""A Mastodon-API provider whose tokens expire and refresh with ``grant_type=refresh_token``.

Mastodon itself never expires tokens; networks like X do. Tests register this class in
``NETWORK_PROVIDERS`` to exercise token renewal over real HTTP against the double.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from networks.providers.exceptions import AuthExpired
from networks.providers.mastodon import MastodonProvider
from networks.providers.types import Capabilities, TokenSet


class RefreshingProvider(MastodonProvider):
    capabilities = Capabilities(**{**MastodonProvider.capabilities.__dict__, "token_refresh": True})

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        client = self._client()
        response = self.http.request(
            "POST",
            self._url("/oauth/token"),
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
            },
        )
        if response.status_code == 400:
            raise AuthExpired("refresh token refused", status=400)
        if response.status_code != 200:
            raise self.classify_error(response)
        body = self._json(response)
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token", ""),
            expires_at=datetime.now(UTC) + timedelta(seconds=int(body["expires_in"])),
            scope=body.get("scope", ""),
        )
