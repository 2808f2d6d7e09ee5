"""Deploy check: production needs real vault keys (no key derived from SECRET_KEY)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def vault_keys_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "FIELD_ENCRYPTION_KEYS", None):
        return []
    return [
        Error(
            "LINKILIKE_FIELD_ENCRYPTION_KEYS is not set; connected-account tokens cannot be stored.",
            hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'",
            id="networks.E001",
        )
    ]
