"""Reads of influencer data. Every function takes the influencer (the scope) explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from influencers.models import InfluencerProfile


@dataclass(frozen=True)
class CompletenessStep:
    label: str | Promise
    done: bool
    url: str


@dataclass(frozen=True)
class ProfileCompleteness:
    steps: list[CompletenessStep]

    @property
    def percent(self) -> int:
        return round(100 * sum(step.done for step in self.steps) / len(self.steps)) if self.steps else 100

    @property
    def missing(self) -> list[CompletenessStep]:
        return [step for step in self.steps if not step.done]


def connect_accounts_url() -> str:
    """The networks app's page for connecting social accounts ("" while it does not exist)."""
    try:
        return reverse("networks:accounts")
    except NoReverseMatch:
        return ""


def connected_account_count_for_influencer(*, influencer: InfluencerProfile) -> int:
    manager = getattr(influencer, "connected_accounts", None)
    return manager.count() if manager is not None else 0


def profile_completeness_get_for_influencer(*, influencer: InfluencerProfile) -> ProfileCompleteness:
    profile_url = reverse("influencers:onboarding")
    steps = [
        CompletenessStep(
            _("Name, country and languages"),
            bool(influencer.display_name and influencer.country and influencer.languages),
            profile_url,
        ),
        CompletenessStep(_("A short bio"), bool(influencer.bio.strip()), profile_url),
        CompletenessStep(_("Topics you post about"), influencer.topics.exists(), profile_url),
        CompletenessStep(_("Who your audience is"), bool(influencer.audience_description.strip()), profile_url),
        CompletenessStep(_("Tax status and terms"), influencer.terms_accepted_at is not None, profile_url),
    ]
    accounts_url = connect_accounts_url()
    if accounts_url:
        steps.append(
            CompletenessStep(
                _("A connected social account"),
                connected_account_count_for_influencer(influencer=influencer) > 0,
                accounts_url,
            )
        )
    return ProfileCompleteness(steps=steps)
