"""Errors raised by network services; ``str(error)`` is a translated message fit to show the person."""

from __future__ import annotations


class ConnectError(Exception):
    """Connecting an account failed or was refused."""


class OAuthStateError(ConnectError):
    """The callback's ``state`` is missing, unknown, already used or expired."""


class InstanceUrlInvalid(ConnectError):
    pass
