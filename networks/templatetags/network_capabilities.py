from __future__ import annotations

from django import template

from networks.capabilities import CapabilityRow, capability_matrix
from networks.providers.registry import ConnectOption, connect_option

register = template.Library()


@register.simple_tag
def network_capability_rows() -> list[CapabilityRow]:
    return capability_matrix()


@register.simple_tag
def network_connect_option(network: str) -> ConnectOption | None:
    """The network's connect partial (``NetworkProvider.connect_template``) and what it shows."""
    return connect_option(network)
