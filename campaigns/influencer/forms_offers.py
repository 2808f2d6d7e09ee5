"""Forms of the offers inbox: accept (accounts, time, caption), decline, resubmit a caption."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from campaigns.influencer.selectors_offers import AccountOption

WHEN_NOW = "now"
WHEN_LATER = "later"


class OfferAcceptForm(forms.Form):
    accounts = forms.TypedMultipleChoiceField(
        label=_("Share to"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one account to share to.")},
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=((WHEN_NOW, _("As soon as possible")), (WHEN_LATER, _("At a time I choose"))),
        initial=WHEN_NOW,
        widget=forms.RadioSelect,
    )
    scheduled_at = forms.DateTimeField(
        label=_("Date and time"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    variant = forms.CharField(required=False, widget=forms.HiddenInput)
    caption = forms.CharField(
        label=_("Your caption"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write a caption (you can keep the brand's text as it is).")},
    )

    def __init__(
        self,
        *args: Any,
        options: list[AccountOption],
        time_zone: zoneinfo.ZoneInfo,
        ends_at: datetime | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.options = options
        self.ends_at = ends_at
        self._time_zone = time_zone
        self.fields["accounts"].choices = [(o.account.pk, o.account.handle) for o in options if o.selectable]  # type: ignore[attr-defined]

    def time_zone(self) -> zoneinfo.ZoneInfo:
        """The influencer's own zone (their profile), never the server's or a passing browser's: the page says
        "Your local time (Europe/Vienna)" and the time typed is read in that same zone."""
        return self._time_zone

    def clean_scheduled_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("scheduled_at")
        if value is None:
            return None
        # The input has no zone: it is the influencer's local time.
        if timezone.is_aware(value):
            value = timezone.make_naive(value, timezone.get_current_timezone())
        return value.replace(tzinfo=self.time_zone())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("when") == WHEN_LATER:
            at = cleaned.get("scheduled_at")
            if at is None and "scheduled_at" not in self.errors:
                self.add_error("scheduled_at", _("Pick the date and time to share, or choose “As soon as possible”."))
            elif at is not None and at <= timezone.now():
                self.add_error("scheduled_at", _("This time has passed. Pick a time in the future."))
            elif at is not None and self.ends_at is not None and at >= self.ends_at:
                self.add_error(
                    "scheduled_at",
                    _("The campaign ends before then. Pick a time before %(end)s.")
                    % {"end": date_format(timezone.localtime(self.ends_at, self.time_zone()), "DATETIME_FORMAT")},
                )
        else:
            cleaned["scheduled_at"] = None
        return cleaned


class OfferDeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why not? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only our team sees this. It helps us send you better offers."),
    )


class CaptionResubmitForm(forms.Form):
    caption = forms.CharField(
        label=_("Your caption"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write a caption.")},
    )
