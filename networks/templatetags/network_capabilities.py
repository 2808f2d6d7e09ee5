from __future__ import annotations

from django import template

from networks.capabilities import CapabilityRow, capability_matrix
from networks.providers.registry import ConnectOption, connect_option, handle_provider_class

register = template.Library()


@register.simple_tag
def network_capability_rows() -> list[CapabilityRow]:
    return capability_matrix()


@register.simple_tag
def network_connect_option(network: str) -> ConnectOption | None:
    """The network's connect partial (``NetworkProvider.connect_template``) and what it shows."""
    return connect_option(network)


@register.filter
def connected_by_handle(network: str) -> bool:
    """A "you post, we verify" network: its accounts are a handle, nothing Linkilike reads or refreshes."""
    return handle_provider_class(network) is not None
