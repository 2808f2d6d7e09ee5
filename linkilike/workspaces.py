"""The workspaces a signed-in person can switch between: their brands and their influencer profile.

Composition (ADR 18): it combines brands and influencers, so it lives in the project package, above both; the home
router (``linkilike.views.home``) and the switcher in every page's header (the ``workspaces`` context processor) read
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from accounts.models import User
from brands.selectors import membership_list_for_user
from influencers.models import InfluencerProfile


@dataclass(frozen=True)
class Workspace:
    kind: str  # "brand" | "influencer"
    name: str
    role: str
    url: str
    slug: str = ""


def workspace_list_for_user(*, user: User) -> list[Workspace]:
    if not user.is_authenticated:
        return []
    workspaces = [
        Workspace(
            kind="brand",
            name=membership.brand.name,
            role=str(membership.get_role_display()),
            url=reverse("brands:dashboard", kwargs={"brand_slug": membership.brand.slug}),
            slug=membership.brand.slug,
        )
        for membership in membership_list_for_user(user=user)
    ]
    profile = InfluencerProfile.objects.filter(user=user).only("display_name").first()
    if profile is not None:
        workspaces.append(
            Workspace(
                kind="influencer", name=profile.display_name, role=_("Influencer"), url=reverse("influencers:home")
            )
        )
    return workspaces


def workspaces(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the signed-in person's workspaces for the switcher, computed only if a template asks."""
    return {"workspaces": SimpleLazyObject(lambda: workspace_list_for_user(user=request.user))}  # type: ignore[arg-type]
