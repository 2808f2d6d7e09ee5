"""Typed errors every provider raises. ``retryable`` tells the caller whether trying again later can help."""

from __future__ import annotations

from datetime import datetime


class NetworkError(Exception):
    """Something the network refused or failed at. Messages are for logs, not for people."""

    retryable: bool = False

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or type(self).__name__)
        self.status = status


class AuthExpired(NetworkError):
    """The access token expired; a refresh (or a new consent) is needed."""


class AuthRevoked(NetworkError):
    """The person or the network withdrew the authorisation; only a new consent helps."""


class RateLimited(NetworkError):
    retryable = True

    def __init__(
        self, message: str = "", *, retry_after: float, reset_at: datetime | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.reset_at = reset_at


class AccountAttention(NetworkError):
    """The account (or Linkilike's app) has a problem at the network that a person must sort out there first.

    A login the server disabled, an e-mail address not confirmed, a sign-up awaiting approval, a permission
    or feature the app lacks. Neither the content's fault nor a withdrawn authorisation: the post is not
    rejected, the account is not revoked; trying again helps only once the problem is fixed.
    """


class Duplicate(NetworkError):
    """The network says this post already exists."""


class ContentRejected(NetworkError):
    """The network refused the content (too long, bad media, policy)."""


class Transient(NetworkError):
    """A 5xx, a timeout before anything was sent, a dropped connection: try again later."""

    retryable = True


class AmbiguousOutcome(NetworkError):
    """A write was sent and no answer came back: it may or may not have happened.

    Never retried blindly; resolve it with ``check_pending_publish``.
    """


class AddressRefused(NetworkError):
    """The server's name resolved to an address Linkilike may not contact (private, internal): nothing was sent.

    Not retried: a DNS answer pointing inside (rebinding) is an attack or a misconfiguration.
    """


class NotSupported(NetworkError):
    """The network has no such operation (e.g. Mastodon tokens cannot be refreshed)."""
