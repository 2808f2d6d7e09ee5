"""Reads about a person: their API tokens. Their workspaces (brands, influencer profile): ``linkilike.workspaces``."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import ApiToken, User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The person's tokens that still work, newest first (expired ones are refused and not listed)."""
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return ApiToken.objects.filter(live, user=user).order_by("-created", "-pk")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    """One of the person's own tokens; anyone else's is 404, as if it did not exist."""
    return get_object_or_404(ApiToken, user=user, pk=token_id)
