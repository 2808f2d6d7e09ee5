"""The brand workspace's section navigation. Apps add their section here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from brands.models import BrandAction, Membership


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Promise
    action: str = BrandAction.VIEW


BRAND_NAV: list[NavItem] = [
    NavItem("brands:dashboard", _("Overview")),
    NavItem("campaigns:list", _("Campaigns")),
    NavItem("payouts:funds", _("Funds")),
    NavItem("brands:members", _("Members")),
    NavItem("brands:settings", _("Settings"), BrandAction.MANAGE_BRAND),
]


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    current: bool


def brand_nav_for_member(*, membership: Membership, current_url_name: str) -> list[NavLink]:
    links = []
    for item in BRAND_NAV:
        if not membership.can(item.action):
            continue
        try:
            url = reverse(item.url_name, kwargs={"brand_slug": membership.brand.slug})
        except NoReverseMatch:
            continue
        links.append(NavLink(url=url, label=str(item.label), current=item.url_name == current_url_name))
    return links
