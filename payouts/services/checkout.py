"""Card top-ups: the hosted checkout, the provider's webhook that books a paid one, and the test-mode checkout."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from payouts import jobs
from payouts.errors import (
    CardDeclined,
    CheckoutClosed,
    CheckoutNotFound,
    PayoutsError,
    ProviderError,
)
from payouts.models import (
    Funding,
    FundingSource,
    FundingStatus,
    WebhookEvent,
)
from payouts.money import money_format
from payouts.providers import funding_provider
from payouts.providers.base import CheckoutRequest
from payouts.providers.local_checkout import EXPIRED as LOCAL_CHECKOUT_EXPIRED
from payouts.providers.local_checkout import PAID as LOCAL_CHECKOUT_PAID
from payouts.providers.local_checkout import LocalCheckoutSession, card_decline_reason, local_checkout_session_load
from payouts.services.ledger import brand_fund

if TYPE_CHECKING:
    from accounts.models import User
    from brands.models import Brand


logger = logging.getLogger(__name__)


MAX_TOP_UP_MINOR = 100_000_000
EXPIRED_EVENTS = frozenset({"checkout.session.expired", "checkout.session.async_payment_failed"})


def funding_checkout_start(
    *, brand: Brand, amount_minor: int, currency: str, created_by: User, success_url: str, cancel_url: str
) -> Funding:
    """Opens a hosted card checkout for a top-up; the webhook books the money when it is paid."""
    if not 0 < amount_minor <= MAX_TOP_UP_MINOR:
        raise PayoutsError(
            _("Enter an amount between %(low)s and %(high)s.")
            % {
                "low": money_format(1, currency),
                "high": money_format(MAX_TOP_UP_MINOR, currency),
            }
        )
    client_reference = f"{brand.slug}-{secrets.token_hex(8)}"
    try:
        start = funding_provider(FundingSource.CARD).start(
            CheckoutRequest(
                brand_slug=brand.slug,
                amount_minor=amount_minor,
                currency=currency,
                success_url=success_url,
                cancel_url=cancel_url,
                client_reference=client_reference,
                description=f"Linkilike top-up for {brand.name}",
                brand_name=brand.name,
            )
        )
    except ProviderError as error:
        logger.warning("card checkout could not start: %s", error)
        raise PayoutsError(_("The card payment page could not be opened. Please try again in a minute.")) from error
    return Funding.objects.create(
        brand=brand,
        source=FundingSource.CARD,
        reference=start.reference,
        amount_minor=amount_minor,
        currency=currency,
        status=FundingStatus.OPEN,
        checkout_url=start.url,
        created_by=created_by,
    )


def funding_webhook_process(*, provider_name: str, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """Verifies a provider webhook and books a paid top-up exactly once (the event id is unique)."""
    event = funding_provider(provider_name).parse_webhook(payload=payload, headers=headers)
    with transaction.atomic():
        record, created = WebhookEvent.objects.get_or_create(
            provider=provider_name,
            event_id=event.event_id,
            defaults={"event_type": event.event_type, "payload": dict(event.payload)},
        )
        if not created:
            return record
        if event.event_type in EXPIRED_EVENTS:
            Funding.objects.filter(source=provider_name, reference=event.reference, status=FundingStatus.OPEN).update(
                status=FundingStatus.EXPIRED
            )
            return record
        if not event.paid:
            return record
        funding = (
            Funding.objects.select_for_update()
            .select_related("brand")
            .filter(source=provider_name, reference=event.reference)
            .first()
        )
        if funding is None:
            logger.warning("webhook %s for unknown checkout %s", event.event_id, event.reference)
            return record
        if funding.amount_minor != event.amount_minor or funding.currency != event.currency:
            logger.error("webhook %s amount differs from checkout %s", event.event_id, funding.pk)
            return record
        brand_fund(
            brand=funding.brand,
            amount_minor=funding.amount_minor,
            currency=funding.currency,
            source=funding.source,
            reference=funding.reference,
        )
    return record


# --- the test-mode card checkout (development and demos) ------------------------------


def _local_checkout_open(token: str) -> LocalCheckoutSession:
    """The session behind a test checkout address, if the brand can still pay it."""
    session = local_checkout_session_load(token)
    status = (
        Funding.objects.filter(source=FundingSource.CARD, reference=session.id).values_list("status", flat=True).first()
    )
    if status is None:
        raise CheckoutNotFound(_("This payment page does not exist or has expired."))
    if status == FundingStatus.COMPLETED:
        raise CheckoutClosed(_("This top-up is already paid. You can close this page."))
    if status == FundingStatus.EXPIRED:
        raise CheckoutClosed(_("This payment page has expired. Start a new top-up on the Funds page."))
    return session


def funding_local_checkout_pay(*, token: str, card_number: str) -> str:
    """The test checkout's "Pay" button: returns the success address to send the brand to.

    A declined card raises ``CardDeclined`` with the reason and books nothing. A paid one books nothing
    here either: as with Stripe, the ``checkout.session.completed`` webhook does (``funding_webhook_process``),
    sent by a task. Nothing is written in this call, so the task is sent at once rather than on commit.
    """
    session = _local_checkout_open(token)
    reason = card_decline_reason(card_number)
    if reason is not None:
        raise CardDeclined(reason)
    jobs.local_checkout_webhook_send.delay(token, LOCAL_CHECKOUT_PAID)
    return session.success_url


def funding_local_checkout_cancel(*, token: str) -> str:
    """The test checkout's "Cancel": returns the cancel address; the session expires (books nothing)."""
    session = _local_checkout_open(token)
    jobs.local_checkout_webhook_send.delay(token, LOCAL_CHECKOUT_EXPIRED)
    return session.cancel_url
