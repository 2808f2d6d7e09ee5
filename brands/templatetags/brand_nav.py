from __future__ import annotations

from typing import Any

from django import template

from brands.navigation import NavLink, brand_nav_for_member

register = template.Library()


@register.simple_tag(takes_context=True)
def brand_nav(context: dict[str, Any]) -> list[NavLink]:
    request = context["request"]
    match = request.resolver_match
    current = f"{match.namespace}:{match.url_name}" if match and match.namespace else ""
    return brand_nav_for_member(membership=context["membership"], current_url_name=current)
