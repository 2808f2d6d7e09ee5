"""API authentication with personal tokens (django-rest-knox, ``accounts.ApiToken``).

Clients send ``Authorization: Token <token>`` (the same header as DRF's old plain-text tokens, so
clients only swap the token). Knox finds the row by the token's first characters, compares the
SHA-512 digest in constant time, refuses expired tokens and inactive people.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication

from accounts.models import ApiToken

#: ``last_used`` is written at most this often per token: one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    def validate_user(self, auth_token: ApiToken) -> tuple[Any, ApiToken]:
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return user, token

    def _cleanup_token(self, auth_token: ApiToken) -> bool:
        """Refuses (and deletes) this token once expired.

        Knox also scans all the person's other tokens on every request; that is a query per API call
        for rows that are refused anyway when presented and hidden from the tokens page.
        """
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the scheme in the OpenAPI schema under the name DRF's token scheme had."""

    target_class = "accounts.api_auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                'A personal API token with the prefix "Token", e.g. `Authorization: Token lk_…`. '
                "Make one at /accounts/tokens/ (shown once); it expires after 30 days unless the "
                "installation sets API_TOKEN_TTL_DAYS, and is revoked there, or when you change or "
                "reset your password."
            ),
        }
