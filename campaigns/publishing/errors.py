"""Errors the publishing services raise; ``str()`` is a translated message for the person."""

from __future__ import annotations


class PublishingError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RetryNotAllowed(PublishingError):
    pass


class ProofRefused(PublishingError):
    pass
