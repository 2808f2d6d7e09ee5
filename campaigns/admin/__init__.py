"""Campaigns in the staff admin. Django's autodiscovery imports only ``campaigns.admin``: each module below registers
its own models when imported (the campaign with its content and notifications; matches, offers, shares and
moderation; publications and metric snapshots; tracking links, clicks and holds)."""

from campaigns.admin import campaign
from campaigns.matching import admin as matching
from campaigns.publishing import admin as publishing
from campaigns.tracking import admin as tracking

__all__ = ["campaign", "matching", "publishing", "tracking"]
