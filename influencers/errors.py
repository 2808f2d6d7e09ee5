"""Errors raised by influencer services; messages are translated and fit to show the person."""

from __future__ import annotations


class InfluencerError(Exception):
    """A refused influencer operation. ``str(error)`` is a user-facing message."""


class ProfileInvalid(InfluencerError):
    """The profile cannot be saved as given. ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
