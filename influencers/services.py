"""Writes to influencer profiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from influencers.errors import ProfileInvalid
from influencers.models import InfluencerProfile, TaxStatus, Topic
from influencers.timezones import time_zone_default, time_zone_is_known
from influencers.topics import LANGUAGES, TOPICS
from influencers.vat import vat_id_is_well_formed, vat_id_normalize

PROFILE_FIELDS = (
    "display_name",
    "bio",
    "country",
    "languages",
    "audience_description",
    "tax_status",
    "vat_id",
    "time_zone",
)
MAX_TOPICS = 8


def _profile_problems(*, fields: dict[str, Any], topics: list[Topic], terms_accepted: bool) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not str(fields.get("display_name") or "").strip():
        problems["display_name"] = _("Enter the name brands and followers know you by.")
    if not fields.get("country"):
        problems["country"] = _("Choose the country you live in; disclosure rules depend on it.")
    languages = list(fields.get("languages") or [])
    if not languages:
        problems["languages"] = _("Choose at least one language you post in.")
    elif not set(languages) <= set(LANGUAGES):
        problems["languages"] = _("Choose languages from the list.")
    if not topics:
        problems["topics"] = _("Choose at least one topic, so campaigns can find you.")
    elif len(topics) > MAX_TOPICS:
        problems["topics"] = _("Choose at most %(count)d topics: the ones you post about most.") % {"count": MAX_TOPICS}
    elif any(topic.slug not in TOPICS for topic in topics):
        problems["topics"] = _("Choose topics from the list.")
    tax_status = fields.get("tax_status") or TaxStatus.PRIVATE
    if tax_status not in TaxStatus.values:
        problems["tax_status"] = _("Choose your tax status.")
    elif tax_status == TaxStatus.VAT_REGISTERED:
        vat_id = vat_id_normalize(str(fields.get("vat_id") or ""))
        if not vat_id:
            problems["vat_id"] = _("Enter your VAT ID: VAT-registered businesses need one on every payout statement.")
        elif not vat_id_is_well_formed(vat_id):
            problems["vat_id"] = _(
                "This does not look like a VAT ID. It starts with the country code, for example ATU12345678 "
                "or DE123456789."
            )
    time_zone = str(fields.get("time_zone") or "")
    if time_zone and not time_zone_is_known(time_zone):
        problems["time_zone"] = _("Choose your time zone from the list.")
    if not terms_accepted:
        problems["accept_terms"] = _("Please accept the terms to take part in campaigns.")
    return problems


@transaction.atomic
def influencer_profile_save(
    *, user: User, topics: Iterable[Topic], accept_terms: bool = False, **fields: Any
) -> InfluencerProfile:
    """Creates or updates ``user``'s own profile. Raises ``ProfileInvalid`` with per-field messages.

    The terms must be accepted once (the moment is kept); a VAT ID is required and format-checked
    for VAT-registered businesses and dropped for everyone else."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"influencer_profile_save() got unexpected fields: {sorted(unknown)}")
    topics = list(topics)
    existing = InfluencerProfile.objects.select_for_update().filter(user=user).first()
    merged = {name: getattr(existing, name) for name in PROFILE_FIELDS} if existing else {}
    merged.update(fields)
    already_accepted = existing is not None and existing.terms_accepted_at is not None
    problems = _profile_problems(fields=merged, topics=topics, terms_accepted=accept_terms or already_accepted)
    if problems:
        raise ProfileInvalid(problems)
    profile = existing or InfluencerProfile(user=user)
    for name, value in merged.items():
        setattr(profile, name, value)
    profile.display_name = str(profile.display_name).strip()
    profile.vat_id = vat_id_normalize(profile.vat_id) if profile.tax_status == TaxStatus.VAT_REGISTERED else ""
    # No zone from the browser (no JavaScript, or one that hides it): the country's.
    profile.time_zone = profile.time_zone or time_zone_default(browser="", country=str(profile.country or ""))
    if profile.terms_accepted_at is None:
        profile.terms_accepted_at = timezone.now()
    profile.save()
    profile.topics.set(topics)
    return profile
