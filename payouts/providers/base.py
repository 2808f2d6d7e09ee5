"""The provider interfaces and the dataclasses that cross them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class CheckoutRequest:
    brand_slug: str
    amount_minor: int
    currency: str
    success_url: str
    cancel_url: str
    client_reference: str
    description: str = "Linkilike top-up"
    #: Shown on a checkout page that names who pays (the test checkout); Stripe shows ``description``.
    brand_name: str = ""


@dataclass(frozen=True)
class FundingStart:
    """Where the brand goes next: a hosted checkout page (``url``) or bank transfer instructions."""

    reference: str
    url: str = ""
    instructions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FundingEvent:
    """A verified provider event about a top-up."""

    event_id: str
    event_type: str
    reference: str
    amount_minor: int
    currency: str
    paid: bool
    client_reference: str = ""
    payload: Mapping[str, object] = field(default_factory=dict)


class FundingProvider(ABC):
    name: str = ""

    @abstractmethod
    def start(self, request: CheckoutRequest) -> FundingStart: ...

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> FundingEvent:
        """Verifies and parses a webhook; providers without webhooks refuse them."""
        from payouts.errors import WebhookSignatureInvalid

        raise WebhookSignatureInvalid(f"{self.name} sends no webhooks")


@dataclass(frozen=True)
class PayoutItem:
    payout_id: int
    amount_minor: int
    currency: str
    name: str
    reference: str
    iban: str = ""
    bic: str = ""
    paypal_email: str = ""
    stripe_account: str = ""


@dataclass(frozen=True)
class PayoutBatchRequest:
    message_id: str
    currency: str
    items: tuple[PayoutItem, ...]


@dataclass(frozen=True)
class PayoutItemResult:
    payout_id: int
    ok: bool
    provider_reference: str = ""
    failure_reason: str = ""


@dataclass(frozen=True)
class PayoutBatchResult:
    provider_reference: str
    items: tuple[PayoutItemResult, ...]
    document: str = ""


class PayoutProvider(ABC):
    name: str = ""
    #: ISO codes the provider can pay out in; a payout in any other currency is refused when requested.
    currencies: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        """Sends the batch. Safe to call again for the same ``message_id`` (providers deduplicate)."""
