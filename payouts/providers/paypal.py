"""PayPal Payouts API: OAuth2 client credentials, POST /v1/payments/payouts, GET the batch for item states.

``sender_batch_id`` is the batch's message id: PayPal refuses a second batch with the same id,
so re-running a batch never pays twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payouts.errors import InvalidDestination, ProviderError
from payouts.money import money_decimal_string
from payouts.providers.base import (
    DestinationField,
    PayoutBatchRequest,
    PayoutBatchResult,
    PayoutItemResult,
    PayoutProvider,
)

TIMEOUT_SECONDS = 15
FAILED_STATES = frozenset({"FAILED", "RETURNED", "BLOCKED", "DENIED", "REFUNDED", "REVERSED"})


def _base() -> str:
    return str(getattr(settings, "PAYPAL_API_BASE", "https://api-m.paypal.com")).rstrip("/")


def _call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = requests.request(method, f"{_base()}{path}", timeout=TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as exc:
        raise ProviderError(f"PayPal unreachable: {type(exc).__name__}", retryable=True) from exc
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        raise ProviderError(
            str(body.get("message") or body.get("error_description") or f"PayPal answered {response.status_code}"),
            retryable=response.status_code == 429 or response.status_code >= 500,
            code=str(body.get("name") or body.get("error") or response.status_code),
        )
    return body


def paypal_email_clean(value: str) -> str:
    """The PayPal account's email in lower case, or ``InvalidDestination``."""
    email = value.lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise InvalidDestination(_("Enter the email address of your PayPal account."), field="paypal_email") from error
    return email


class PayPalPayoutsProvider(PayoutProvider):
    name = "paypal"
    label = gettext_lazy("PayPal Payouts")
    destination_label = gettext_lazy("PayPal")
    destination_fields = (
        DestinationField(
            "paypal_email",
            gettext_lazy("PayPal email"),
            required_message=gettext_lazy("Enter the email address of your PayPal account."),
            help_text=gettext_lazy("The email address you sign in to PayPal with."),
            max_length=254,
            input_type="email",
            autocomplete="email",
            clean=paypal_email_clean,
        ),
    )
    #: PayPal's currency codes that Payouts accepts, limited to the ones campaigns are priced in.
    currencies = frozenset({"EUR", "CHF", "GBP", "USD"})
    required_settings = ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET")

    def destination_masked(self, fields: Mapping[str, str]) -> str:
        name, _at, domain = fields.get("paypal_email", "").partition("@")
        return f"PayPal {name[:2]}•••@{domain}"

    def _token(self) -> str:
        body = _call(
            "POST",
            "/v1/oauth2/token",
            auth=(str(getattr(settings, "PAYPAL_CLIENT_ID", "")), str(getattr(settings, "PAYPAL_CLIENT_SECRET", ""))),
            data={"grant_type": "client_credentials"},
        )
        return str(body["access_token"])

    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        headers = {"Authorization": f"Bearer {self._token()}", "Content-Type": "application/json"}
        created = _call(
            "POST",
            "/v1/payments/payouts",
            headers=headers,
            json={
                "sender_batch_header": {
                    "sender_batch_id": batch.message_id,
                    "email_subject": "You have a payout from Linkilike",
                    "recipient_type": "EMAIL",
                },
                "items": [
                    {
                        "recipient_type": "EMAIL",
                        "amount": {"value": money_decimal_string(item.amount_minor), "currency": item.currency},
                        "receiver": item.destination["paypal_email"],
                        "note": item.reference,
                        "sender_item_id": str(item.payout_id),
                    }
                    for item in batch.items
                ],
            },
        )
        batch_id = str(created["batch_header"]["payout_batch_id"])
        status = _call("GET", f"/v1/payments/payouts/{batch_id}", headers=headers)
        states = {
            str(row["payout_item"]["sender_item_id"]): (str(row.get("transaction_status", "")), row)
            for row in status.get("items", [])
        }
        results = []
        for item in batch.items:
            state, row = states.get(str(item.payout_id), ("MISSING", {}))
            if state in FAILED_STATES or state == "MISSING":
                error = row.get("errors", {}) if isinstance(row, dict) else {}
                reason = str(error.get("message") or f"PayPal item {state.lower()}")
                results.append(PayoutItemResult(payout_id=item.payout_id, ok=False, failure_reason=reason))
            else:
                results.append(
                    PayoutItemResult(
                        payout_id=item.payout_id, ok=True, provider_reference=str(row.get("payout_item_id", ""))
                    )
                )
        return PayoutBatchResult(provider_reference=batch_id, items=tuple(results))
