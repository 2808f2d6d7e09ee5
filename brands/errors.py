"""Errors raised by brand services; each carries a message fit to show the person."""

from __future__ import annotations


class BrandError(Exception):
    """A refused brand operation. ``str(error)`` is a translated, user-facing message."""


class LastOwnerError(BrandError):
    pass


class LogoRejected(BrandError):
    """The uploaded logo is not a PNG, JPEG, WebP or GIF image (judged by its bytes, not its name)."""

    field = "logo"


class InvitationError(BrandError):
    pass


class InvitationExpired(InvitationError):
    pass


class InvitationAlreadyUsed(InvitationError):
    pass


class InvitationForAnotherAccount(InvitationError):
    pass


class InvitationInvalid(InvitationError):
    pass


class InvitationRateLimited(BrandError):
    """Too many invitations from this brand or to this address lately; ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.field = field
