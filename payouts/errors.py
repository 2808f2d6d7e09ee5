"""Errors raised by money services; ``str(error)`` is a translated message fit to show the person."""

from __future__ import annotations


class PayoutsError(Exception):
    """A refused money operation. ``str(error)`` is a translated, user-facing message."""


class InsufficientFunds(PayoutsError):
    """The paying account holds less than the operation needs."""

    def __init__(self, message: str, *, shortfall_minor: int = 0, currency: str = "") -> None:
        super().__init__(message)
        self.shortfall_minor = shortfall_minor
        self.currency = currency


class UnbalancedTransaction(PayoutsError):
    """A programming error: a transaction whose debits and credits differ. Never shown to people."""


class AlreadyReversed(PayoutsError):
    pass


class DuplicateReference(PayoutsError):
    """The same funding reference was used before with a different amount or brand."""


class BelowMinimumPayout(PayoutsError):
    pass


class InvalidDestination(PayoutsError):
    """A payout account or target that cannot be used; ``field`` names the form field it is about ("" if none)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class UnsupportedCurrency(InvalidDestination):
    """The chosen destination's provider cannot pay out in the balance's currency."""


class PayoutStateError(PayoutsError):
    """The payout is not in a state that allows this step."""


class ProviderError(PayoutsError):
    """A payment provider refused or failed. ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class WebhookSignatureInvalid(ProviderError):
    pass


class CheckoutNotFound(PayoutsError):
    """A test-mode checkout address that was never issued, was changed or has expired (shown as 404)."""


class CheckoutClosed(PayoutsError):
    """The checkout was already paid or has expired: it cannot be paid (again)."""


class CardDeclined(PayoutsError):
    """The test-mode checkout declined the card; the message is the reason, as the card provider words it."""
