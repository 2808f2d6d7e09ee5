"""Errors raised by account services; ``str(error)`` is a translated message fit to show the person."""

from __future__ import annotations


class AccountError(Exception):
    """A refused account operation. ``str(error)`` is a translated, user-facing message."""


class ApiTokenLimitReached(AccountError):
    pass
