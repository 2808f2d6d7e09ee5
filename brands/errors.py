"""Errors raised by brand services; each carries a message fit to show the person."""

from __future__ import annotations


class BrandError(Exception):
    """A refused brand operation. ``str(error)`` is a translated, user-facing message."""


class LastOwnerError(BrandError):
    pass


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
