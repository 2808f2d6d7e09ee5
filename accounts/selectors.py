"""Reads about a person: which workspaces (brands, influencer profile) they can switch between, their API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, User
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


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The person's tokens that still work, newest first (expired ones are refused and not listed)."""
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return ApiToken.objects.filter(live, user=user).order_by("-created", "-pk")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    """One of the person's own tokens; anyone else's is 404, as if it did not exist."""
    return get_object_or_404(ApiToken, user=user, pk=token_id)
