"""What an earnings window means, in the influencer's words.

An accrual's ``window`` is a booking key ("+2m", "clicks:2026-11-02T10", "removed", ...): right for the
ledger, meaningless to the person paid. ``window_words`` turns each kind into a plain phrase of the active
language ("2 minutes after publishing"); an unknown key is shown as it is rather than hidden.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_OFFSET = re.compile(r"^\+(\d+)([mhd])$")
_CLICK_HOUR = re.compile(r"^clicks:(\d{4}-\d{2}-\d{2}T\d{2})(:unpaid)?$")


def _after_publishing(count: int, unit: str) -> str:
    if unit == "m":
        text = ngettext("%(count)s minute after publishing", "%(count)s minutes after publishing", count)
    elif unit == "h":
        text = ngettext("%(count)s hour after publishing", "%(count)s hours after publishing", count)
    else:
        text = ngettext("%(count)s day after publishing", "%(count)s days after publishing", count)
    return text % {"count": count}


def window_words(window: str) -> str:
    """ "+2m" -> "2 minutes after publishing"; "clicks:2026-11-02T10" -> "clicks from 02.11.2026 11:00" (local)."""
    offset = _OFFSET.match(window)
    if offset:
        return _after_publishing(int(offset.group(1)), offset.group(2))
    hour = _CLICK_HOUR.match(window)
    if hour:
        start = timezone.localtime(datetime.strptime(hour.group(1), "%Y-%m-%dT%H").replace(tzinfo=UTC))
        when = date_format(start, "SHORT_DATETIME_FORMAT")
        if hour.group(2):
            return _("clicks of the hour from %(time)s beyond the budget (not paid)") % {"time": when}
        return _("clicks of the hour from %(time)s") % {"time": when}
    if window == "removed":
        return _("post removed: earnings on hold taken back")
    if window.startswith("manual:"):
        return _("counts fetched on request")
    return window
