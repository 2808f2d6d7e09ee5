"""Providers are looked up by network key in ``settings.NETWORK_PROVIDERS``.

Each entry is ``{"class": "<dotted path>"}`` plus, for networks with one fixed server, either
``"base_url"`` or ``"base_url_setting"`` (the name of a setting read at call time, so tests can
point it at a live server).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from networks.providers.base import NetworkProvider
from networks.providers.http import HttpClient
from networks.providers.types import ClientCredentials


def provider_config(network: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = settings.NETWORK_PROVIDERS[network]
    except KeyError as error:
        raise ImproperlyConfigured(f"No provider configured for network {network!r}") from error
    return config


def provider_class(network: str) -> type[NetworkProvider]:
    cls = import_string(provider_config(network)["class"])
    if not (isinstance(cls, type) and issubclass(cls, NetworkProvider)):
        raise ImproperlyConfigured(f"{cls!r} is not a NetworkProvider")
    return cls


def provider_base_url(network: str) -> str:
    """The fixed base URL of a network ("" for per-instance networks such as Mastodon)."""
    config = provider_config(network)
    if config.get("base_url_setting"):
        return str(getattr(settings, config["base_url_setting"])).rstrip("/")
    return str(config.get("base_url", "")).rstrip("/")


def provider_get(
    network: str,
    *,
    base_url: str = "",
    client: ClientCredentials | None = None,
    http: HttpClient | None = None,
) -> NetworkProvider:
    """An instance for ``network``; ``base_url`` defaults to the configured one (fixed-URL networks)."""
    url = base_url or provider_base_url(network)
    if not url:
        raise ImproperlyConfigured(f"Network {network!r} needs a base URL")
    cls = provider_class(network)
    if client is None and not cls.per_instance:
        client = staff_client_credentials(network)
    return cls(base_url=url, http=http, client=client)


def staff_client_credentials(network: str) -> ClientCredentials | None:
    """The app credentials staff entered in the admin for a fixed-URL network, if any."""
    from networks.models import NetworkAppCredential  # providers stay importable without apps loaded

    credential = NetworkAppCredential.objects.filter(network=network).first()
    if credential is None:
        return None
    return ClientCredentials(client_id=credential.client_id, client_secret=credential.client_secret)
