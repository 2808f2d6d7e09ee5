"""An influencer's time zone: the one scheduled posts and "your local time" use.

Onboarding asks the browser (static/js/timezone.js fills the choice); without an answer, or with one that
hides the real zone, the country decides (``COUNTRY_TIME_ZONES``), and the site's zone last.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings

#: One zone per supported country (the EU, the EEA, Switzerland and the UK); where a country spans several
#: (Spain, Portugal) it is the mainland's, which the person can change on their profile.
COUNTRY_TIME_ZONES = {
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "GR": "Europe/Athens",
    "HR": "Europe/Zagreb",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome",
    "LI": "Europe/Vaduz",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "SE": "Europe/Stockholm",
    "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
}

_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")


@cache
def time_zone_names() -> tuple[str, ...]:
    """Zones a person can live in ("Europe/Vienna"); not "UTC", "Etc/GMT+3" or the old aliases."""
    return tuple(sorted(name for name in zoneinfo.available_timezones() if name.startswith(_REGIONS)))


def time_zone_is_known(name: str) -> bool:
    return name in time_zone_names()


def time_zone_default(*, browser: str, country: str) -> str:
    """The browser's zone when it names a place; else the country's; else the site's.

    Privacy modes (Firefox's resistFingerprinting, Tor) and headless browsers report "UTC", which is no
    one's choice: it falls through to the country like no answer at all.
    """
    if time_zone_is_known(browser):
        return browser
    return COUNTRY_TIME_ZONES.get(str(country or ""), settings.TIME_ZONE)


def influencer_time_zone(profile: Any) -> zoneinfo.ZoneInfo:
    """The zone the influencer's times are in (profiles made before zones were kept: from the country)."""
    name = profile.time_zone if time_zone_is_known(profile.time_zone or "") else ""
    return zoneinfo.ZoneInfo(name or time_zone_default(browser="", country=profile.country))
