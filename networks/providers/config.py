"""A network's entry in ``settings.NETWORK_PROVIDERS`` and its fixed server's address: settings only, so the
HTTP client (which trusts the servers the settings name) and the registry (which builds providers on that
client) both read them without importing each other."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def provider_config(network: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = settings.NETWORK_PROVIDERS[network]
    except KeyError as error:
        raise ImproperlyConfigured(f"No provider configured for network {network!r}") from error
    return config


def provider_base_url(network: str) -> str:
    """The fixed base URL of a network ("" for per-instance networks such as Mastodon)."""
    config = provider_config(network)
    if config.get("base_url_setting"):
        return str(getattr(settings, config["base_url_setting"])).rstrip("/")
    return str(config.get("base_url", "")).rstrip("/")
