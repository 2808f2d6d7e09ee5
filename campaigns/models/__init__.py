"""Campaigns' models, one module per concern: the campaign with its content and notifications (``campaign``),
matching, offers and shares (``matching``), publishing and metrics (``publishing``), tracking and results rollups
(``tracking``).

Django finds an app's models by importing ``campaigns.models``: every model is imported here, and
``from campaigns.models import X`` keeps working for each of them. App label and table names are unchanged.
"""

from campaigns.models.campaign import (
    DEFAULT_PLATFORM_FEE_BPS,
    MAX_BIGINT,
    MAX_INTEGER,
    Campaign,
    CampaignStatus,
    CaptionVariant,
    ContentPiece,
    MediaKind,
    Notification,
    NotificationKind,
    content_media_path,
)
from campaigns.models.matching import (
    MATCH_SCORE_MAX,
    CaptionStatus,
    Match,
    MatchStatus,
    ModerationAction,
    ModerationEvent,
    Offer,
    OfferStatus,
    Share,
    ShareStatus,
)
from campaigns.models.publishing import (
    HandleKind,
    MetricSnapshot,
    MetricWindow,
    MetricWindowRetry,
    PublicationState,
    SharePublication,
)
from campaigns.models.tracking import (
    CampaignResultGroup,
    CampaignResultHour,
    Click,
    ClickReason,
    HoldReason,
    ShareHold,
    ShareResult,
    TrackingLink,
)

__all__ = [
    "DEFAULT_PLATFORM_FEE_BPS",
    "MATCH_SCORE_MAX",
    "MAX_BIGINT",
    "MAX_INTEGER",
    "Campaign",
    "CampaignResultGroup",
    "CampaignResultHour",
    "CampaignStatus",
    "CaptionStatus",
    "CaptionVariant",
    "Click",
    "ClickReason",
    "ContentPiece",
    "HandleKind",
    "HoldReason",
    "Match",
    "MatchStatus",
    "MediaKind",
    "MetricSnapshot",
    "MetricWindow",
    "MetricWindowRetry",
    "ModerationAction",
    "ModerationEvent",
    "Notification",
    "NotificationKind",
    "Offer",
    "OfferStatus",
    "PublicationState",
    "Share",
    "ShareHold",
    "SharePublication",
    "ShareResult",
    "ShareStatus",
    "TrackingLink",
    "content_media_path",
]
