"""The token vault: secrets at rest are Fernet tokens under a rotating key list.

Keys come from ``settings.FIELD_ENCRYPTION_KEYS`` (env ``LINKILIKE_FIELD_ENCRYPTION_KEYS``,
comma-separated, newest first). New values are encrypted with the newest key; every key in the
list can decrypt, so a key is added in front, ``manage.py rotate_token_keys`` re-encrypts every
row, and only then is the old key dropped. In DEBUG or under tests, with no keys configured, a
development key is derived from ``SECRET_KEY``; in production that is refused.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


def _development_key() -> str:
    digest = hashlib.sha256(f"linkilike.networks.vault:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> tuple[str, ...]:
    keys = tuple(key.strip() for key in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if key.strip())
    if keys:
        return keys
    if settings.DEBUG or getattr(settings, "TESTING", False):
        return (_development_key(),)
    raise ImproperlyConfigured(
        "LINKILIKE_FIELD_ENCRYPTION_KEYS must be set (comma-separated Fernet keys, newest first) "
        "when DJANGO_DEBUG is off."
    )


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured("A LINKILIKE_FIELD_ENCRYPTION_KEYS entry is not a valid Fernet key.") from error


def _fernet() -> MultiFernet:
    return _multi_fernet(configured_keys())


def encrypt(plaintext: str) -> str:
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext.startswith(PREFIX):
        raise ValueError("Not a vault value.")
    try:
        return _fernet().decrypt(ciphertext.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any configured key. Was a key dropped before "
            "running rotate_token_keys?"
        ) from error


def rotate(ciphertext: str) -> str:
    """Re-encrypt one stored value under the newest key."""
    if not ciphertext:
        return ciphertext
    return PREFIX + _fernet().rotate(ciphertext.removeprefix(PREFIX).encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python sees the plaintext ("" when empty).

    Not searchable and not comparable in queries: each write produces a different ciphertext.
    """

    description = "Text encrypted at rest with the token vault"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return decrypt(value)

    def to_python(self, value: Any) -> str:
        if not value:
            return ""
        if isinstance(value, str) and value.startswith(PREFIX):
            return decrypt(value)
        return str(value)

    def get_prep_value(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        return encrypt(str(value))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata, fixtures) never carries the plaintext.
        return "[encrypted]"
