from __future__ import annotations

from django import template

from networks.capabilities import CapabilityRow, capability_matrix

register = template.Library()


@register.simple_tag
def network_capability_rows() -> list[CapabilityRow]:
    return capability_matrix()
