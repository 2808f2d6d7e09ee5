"""Errors raised by campaign services; ``str(error)`` is a translated message fit to show the person."""

from __future__ import annotations


class CampaignError(Exception):
    """A refused campaign operation (bad input). APIs answer 400."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CampaignInvalid(CampaignError):
    """The campaign or content is incomplete or inconsistent."""


class CampaignTransitionError(CampaignError):
    """The lifecycle does not allow this move from the current status. APIs answer 409."""


class CampaignNotEditable(CampaignTransitionError):
    """Only drafts (and rejected campaigns) can be edited."""


class CampaignFundsError(CampaignError):
    """The brand's balance does not cover the budget to reserve."""


class UploadRejected(CampaignInvalid):
    """An uploaded file is not an acceptable image or video."""


class MatchingError(CampaignError):
    """A refused matching, moderation, offer or share operation (bad input). APIs answer 400."""


class MatchTransitionError(MatchingError):
    """The match is no longer proposed (someone decided already). APIs answer 409."""


class OfferNotOpen(MatchingError):
    """The offer was accepted, declined, withdrawn or has expired. APIs answer 409."""


class OfferAccountInvalid(MatchingError):
    """A chosen account is not the influencer's, not usable or not on a network the campaign targets."""


class CaptionRefused(MatchingError):
    """An edited caption breaks the brand's rules (disclosure, link, length per network)."""

    def __init__(self, message: str, *, field: str | None = "caption_text", problems: list[str] | None = None) -> None:
        super().__init__(message, field=field)
        self.problems = problems or [message]


class ShareCaptionTransitionError(MatchingError):
    """The share's caption is not in a state that allows this decision. APIs answer 409."""
