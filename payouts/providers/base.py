"""The provider interfaces and the dataclasses that cross them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeAlias

from django.utils.translation import gettext as _

from payouts.errors import InvalidDestination, WebhookSignatureInvalid

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

#: A translated text, now or lazily (labels are declared at import time, hence lazy).
Text: TypeAlias = "str | _StrPromise"


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

    #: Settings that must be set for the provider to work; the deploy check ``payouts.E002`` names any missing.
    required_settings: ClassVar[tuple[str, ...]] = ()

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> FundingEvent:
        """Verifies and parses a webhook; providers without webhooks refuse them."""
        raise WebhookSignatureInvalid(f"{self.name} sends no webhooks")


@dataclass(frozen=True)
class PayoutItem:
    payout_id: int
    amount_minor: int
    currency: str
    name: str
    reference: str
    #: Where to pay: the provider's own destination fields, as its ``destination_clean`` returned them.
    destination: Mapping[str, str] = field(default_factory=dict)


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


@dataclass(frozen=True)
class DestinationField:
    """One input of a payout provider's destination (the payout account form is built from these).

    ``name`` is the form field's name and the key in the cleaned destination; names are unique across
    payout providers (the system check ``payouts.E003`` refuses two providers declaring the same one).
    """

    name: str
    label: Text
    required: bool = True
    #: Shown under the field when a required value is missing.
    required_message: Text = ""
    help_text: Text = ""
    max_length: int = 140
    #: The HTML input type and autocomplete hint ("email", "name", ...).
    input_type: str = "text"
    autocomplete: str = ""
    #: The value identifies an account (an IBAN, an email): masked in the audit trail.
    private: bool = True
    #: Normalises and checks a value that is present and not too long (the IBAN's compact form), raising
    #: ``InvalidDestination`` about this field; None: kept as typed, stripped.
    clean: Callable[[str], str] | None = None


@dataclass(frozen=True)
class CleanDestination:
    """A destination the provider accepted: its fields normalised, and a fingerprint to spot sharing."""

    fields: Mapping[str, str]
    #: Normalised identity of the account (IBAN, email, account id), prefixed with the provider's name.
    fingerprint: str


class PayoutProvider(ABC):
    """Pays influencers out, and owns what a payout account of its kind is (fields, validation, display).

    Adding one: a module with a subclass, and a line in ``settings.PAYOUTS_PAYOUT_PROVIDERS``
    (see ``payouts/providers/README.md``).
    """

    name: str = ""
    #: What staff see for a batch or payout of this provider ("SEPA credit transfer file").
    label: ClassVar[Text] = ""
    #: The choice the influencer picks on the payout account form ("Bank account (IBAN)").
    destination_label: ClassVar[Text] = ""
    #: The payout account's fields, in page order.
    destination_fields: ClassVar[tuple[DestinationField, ...]] = ()
    #: ISO codes the provider can pay out in; a payout in any other currency is refused when requested.
    currencies: ClassVar[frozenset[str]] = frozenset()
    #: Settings that must be set for the provider to work; the deploy check ``payouts.E002`` names any missing.
    required_settings: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        """Sends the batch. Safe to call again for the same ``message_id`` (providers deduplicate)."""

    def destination_clean(self, data: Mapping[str, str]) -> CleanDestination:
        """Validates a payout account typed in: only this provider's fields, stripped, required ones present
        and not too long, then each through its field's ``clean``, in field order.

        Raises ``InvalidDestination`` with a translated message and ``field`` naming the input it is about.
        The fingerprint is ``destination_fingerprint``'s.
        """
        fields: dict[str, str] = {}
        for spec in self.destination_fields:
            value = str(data.get(spec.name) or "").strip()
            if spec.required and not value:
                raise InvalidDestination(str(spec.required_message or _("This field is required.")), field=spec.name)
            if len(value) > spec.max_length:
                raise InvalidDestination(
                    _("Enter at most %(limit)d characters.") % {"limit": spec.max_length}, field=spec.name
                )
            fields[spec.name] = value
        for spec in self.destination_fields:
            if spec.clean is not None:
                fields[spec.name] = spec.clean(fields[spec.name])
        return CleanDestination(fields=fields, fingerprint=self.destination_fingerprint(fields))

    def destination_fingerprint(self, fields: Mapping[str, str]) -> str:
        """The cleaned account's identity, prefixed (to spot two people sharing one): the first field's value."""
        first = next(iter(fields.values()), "")
        return f"{self.name}:{first}"

    def destination_masked(self, fields: Mapping[str, str]) -> str:
        """The account as shown in lists and emails, with most of it hidden."""
        first = next((value for value in fields.values() if value), "")
        return f"{self.destination_label} {first[:4]}•••"

    def destination_described(self, fields: Mapping[str, str]) -> str:
        """The masked account with what kind it is, for messages; the masked form when it says so already."""
        return self.destination_masked(fields)

    def currency_refused_message(self, currency: str) -> str:
        """Why a payout in ``currency`` cannot go to an account of this kind (translated)."""
        return _("%(provider)s pays out in %(supported)s only, not in %(currency)s.") % {
            "provider": self.label,
            "supported": ", ".join(sorted(self.currencies)),
            "currency": currency,
        }
