"""The money layer's configured rules: how long earnings stay on hold, the smallest payout."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def hold_period() -> timedelta:
    """How long new earnings stay pending before they can be paid out (``PAYOUTS_HOLD_DAYS``)."""
    return timedelta(days=int(getattr(settings, "PAYOUTS_HOLD_DAYS", 14)))


def minimum_payout_minor() -> int:
    """The smallest payout, in minor units (``PAYOUTS_MINIMUM_MINOR``)."""
    return int(getattr(settings, "PAYOUTS_MINIMUM_MINOR", 2000))
