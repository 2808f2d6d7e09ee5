"""What the Stripe providers share: the API base, auth, form encoding and error mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings

from payouts.errors import ProviderError

TIMEOUT_SECONDS = 15


def stripe_base_url() -> str:
    return str(getattr(settings, "STRIPE_API_BASE", "https://api.stripe.com")).rstrip("/")


def stripe_post(path: str, data: Mapping[str, str | int], *, idempotency_key: str = "") -> dict[str, Any]:
    """POST form-encoded (Stripe's API takes application/x-www-form-urlencoded, nested keys as a[b][c])."""
    headers = {"Authorization": f"Bearer {getattr(settings, 'STRIPE_SECRET_KEY', '')}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        response = requests.post(f"{stripe_base_url()}{path}", data=data, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ProviderError(f"Stripe unreachable: {type(exc).__name__}", retryable=True) from exc
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise ProviderError(
            str(error.get("message") or f"Stripe answered {response.status_code}"),
            retryable=response.status_code == 429 or response.status_code >= 500,
            code=str(error.get("code") or error.get("type") or response.status_code),
        )
    return body
