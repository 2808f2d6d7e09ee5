"""Bank transfer: the brand wires money with a reference; platform staff record it in admin."""

from __future__ import annotations

from django.conf import settings

from payouts.providers.base import CheckoutRequest, FundingProvider, FundingStart


class BankTransferProvider(FundingProvider):
    name = "bank_transfer"

    def start(self, request: CheckoutRequest) -> FundingStart:
        return FundingStart(
            reference=request.client_reference,
            instructions={
                "account_holder": getattr(settings, "PAYOUTS_PLATFORM_ACCOUNT_NAME", "Linkilike GmbH"),
                "iban": getattr(settings, "PAYOUTS_PLATFORM_IBAN", "AT611904300234573201"),
                "bic": getattr(settings, "PAYOUTS_PLATFORM_BIC", "BKAUATWW"),
                "reference": request.client_reference,
            },
        )
