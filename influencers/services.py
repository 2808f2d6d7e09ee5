"""Writes to influencer profiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from influencers.models import InfluencerProfile, Topic

PROFILE_FIELDS = ("display_name", "bio", "country", "languages", "audience_description", "tax_status", "vat_id")


@transaction.atomic
def influencer_profile_save(
    *, user: User, topics: Iterable[Topic], accept_terms: bool = False, **fields: Any
) -> InfluencerProfile:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"influencer_profile_save() got unexpected fields: {sorted(unknown)}")
    profile, _created = InfluencerProfile.objects.select_for_update().get_or_create(
        user=user, defaults={"display_name": fields.get("display_name") or user.email.split("@")[0]}
    )
    for name, value in fields.items():
        setattr(profile, name, value)
    if accept_terms and profile.terms_accepted_at is None:
        profile.terms_accepted_at = timezone.now()
    profile.save()
    profile.topics.set(topics)
    return profile
