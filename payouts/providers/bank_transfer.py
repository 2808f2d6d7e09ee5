"""Bank transfer: the brand wires money with a reference; platform staff record it in admin.

The account shown is the platform's own (``PAYOUTS_PLATFORM_ACCOUNT_NAME``, ``PAYOUTS_PLATFORM_IBAN``,
``PAYOUTS_PLATFORM_BIC``). It has no default: with no IBAN configured there are no instructions and
the funds page says funding by transfer is not available, rather than showing an account nobody owns.
"""

from __future__ import annotations

from django.conf import settings

from payouts.providers.base import CheckoutRequest, FundingProvider, FundingStart


class BankTransferProvider(FundingProvider):
    name = "bank_transfer"
    required_settings = ("PAYOUTS_PLATFORM_ACCOUNT_NAME", "PAYOUTS_PLATFORM_IBAN")

    @staticmethod
    def available() -> bool:
        return bool(
            getattr(settings, "PAYOUTS_PLATFORM_IBAN", "") and getattr(settings, "PAYOUTS_PLATFORM_ACCOUNT_NAME", "")
        )

    def start(self, request: CheckoutRequest) -> FundingStart:
        """The transfer instructions; empty when the platform's account is not configured."""
        if not self.available():
            return FundingStart(reference=request.client_reference)
        return FundingStart(
            reference=request.client_reference,
            instructions={
                "account_holder": str(settings.PAYOUTS_PLATFORM_ACCOUNT_NAME),
                "iban": str(settings.PAYOUTS_PLATFORM_IBAN),
                "bic": str(getattr(settings, "PAYOUTS_PLATFORM_BIC", "") or ""),
                "reference": request.client_reference,
            },
        )
