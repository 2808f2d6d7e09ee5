"""Errors of the sandbox network.

``SandboxApiError`` and its subclasses are the Mastodon-shaped API answers (machine-readable
English strings, exactly as Mastodon sends them, so clients can match on them). ``OAuthError``
carries an RFC 6749 error code. ``SandboxPersonaError`` is shown to people on the consent
page and is translated.
"""

from __future__ import annotations


class SandboxApiError(Exception):
    http_status = 400

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if http_status is not None:
            self.http_status = http_status


class ValidationFailed(SandboxApiError):
    http_status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(f"Validation failed: {detail}")


class UnprocessableEntity(SandboxApiError):
    http_status = 422


class RecordNotFound(SandboxApiError):
    http_status = 404

    def __init__(self) -> None:
        super().__init__("Record not found")


class NotPermitted(SandboxApiError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__("This action is not allowed")


class RouteNotFound(SandboxApiError):
    """A path (or a method on it) the sandbox has no endpoint for: Rails' answer to an unmatched route."""

    http_status = 404

    def __init__(self) -> None:
        super().__init__("Not Found")


class InvalidToken(SandboxApiError):
    http_status = 401

    def __init__(self) -> None:
        super().__init__("The access token is invalid")


class OutsideScopes(SandboxApiError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__("This action is outside the authorized scopes")


class OAuthError(Exception):
    """An OAuth 2 error (``error`` code + description) for the token and authorize endpoints."""

    def __init__(self, error: str, description: str, *, http_status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.http_status = http_status


class ClientNotRecognised(OAuthError):
    """Unknown client or a redirect URI that is not registered: never redirect, show a page."""


class SandboxPersonaError(Exception):
    """A refused persona choice on the consent page. ``str(error)`` is translated."""


class RedirectableOAuthError(OAuthError):
    """An authorize-request problem found after the client and its redirect URI were verified:
    the error goes back to the app at ``redirect_uri`` with ``state``."""

    def __init__(self, error: str, description: str, *, redirect_uri: str, state: str) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state
