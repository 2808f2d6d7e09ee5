"""The curated topic list shared by influencer profiles and campaign targeting.

Topics are rows (so matching can join on them) whose labels come from this list, so they
are translated like every other string. A data migration keeps the table in step.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TOPICS: dict[str, Promise] = {
    "fashion": _("Fashion"),
    "beauty": _("Beauty"),
    "fitness": _("Fitness"),
    "food": _("Food & cooking"),
    "travel": _("Travel"),
    "outdoors": _("Outdoors"),
    "tech": _("Technology"),
    "gaming": _("Gaming"),
    "music": _("Music"),
    "film": _("Film & TV"),
    "books": _("Books"),
    "art": _("Art & design"),
    "photography": _("Photography"),
    "parenting": _("Parenting"),
    "pets": _("Pets"),
    "home": _("Home & interior"),
    "gardening": _("Gardening"),
    "sustainability": _("Sustainability"),
    "finance": _("Personal finance"),
    "career": _("Career"),
    "education": _("Education"),
    "health": _("Health & wellbeing"),
    "sports": _("Sports"),
    "cycling": _("Cycling"),
    "running": _("Running"),
    "automotive": _("Cars & mobility"),
    "diy": _("DIY & crafts"),
    "local": _("Local news & community"),
    "coffee": _("Coffee"),
    "wine": _("Wine & drinks"),
}

LANGUAGES: dict[str, Promise] = {
    "en": _("English"),
    "de": _("German"),
    "fr": _("French"),
    "it": _("Italian"),
    "es": _("Spanish"),
    "nl": _("Dutch"),
    "pl": _("Polish"),
    "pt": _("Portuguese"),
    "cs": _("Czech"),
    "hu": _("Hungarian"),
    "sv": _("Swedish"),
    "da": _("Danish"),
    "tr": _("Turkish"),
}
LANGUAGE_CHOICES = list(LANGUAGES.items())
