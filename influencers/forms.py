from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from influencers.models import InfluencerProfile, TaxStatus, Topic
from influencers.timezones import time_zone_names
from influencers.topics import LANGUAGE_CHOICES


class TopicChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Topic) -> str:
        return obj.label


class InfluencerProfileForm(forms.ModelForm):
    """Parses the profile form; the rules (terms, VAT ID, limits) live in influencers.services."""

    topics = TopicChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Pick up to 8 topics you post about; campaigns are matched to you by these."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you post in"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    tax_status = forms.ChoiceField(
        label=_("Tax status"),
        choices=TaxStatus.choices,
        widget=forms.RadioSelect,
        initial=TaxStatus.PRIVATE,
        help_text=_("This decides whether VAT is added to what you earn. You can change it later."),
    )
    vat_id = forms.CharField(
        label=_("VAT ID (only if VAT registered)"),
        required=False,
        max_length=20,
        help_text=_("With the country code, for example ATU12345678."),
    )
    accept_terms = forms.BooleanField(
        label=_("I accept the terms for influencers"),
        required=False,
    )
    #: static/js/timezone.js picks the browser's zone while this is still on the first choice.
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        required=False,
        choices=[],
        help_text=_("Times you choose for your posts are in this zone. Left as it is, we use your country's."),
        widget=forms.Select(attrs={"data-browser-time-zone": ""}),
    )

    class Meta:
        model = InfluencerProfile
        fields = (
            "display_name",
            "bio",
            "country",
            "languages",
            "topics",
            "audience_description",
            "tax_status",
            "vat_id",
            "time_zone",
        )
        labels = {"audience_description": _("Your audience")}
        help_texts = {
            "display_name": _("Shown to brands next to your shares."),
            "bio": _("A sentence or two about what you post."),
            "audience_description": _("Who follows you: for example age range, places, interests."),
        }
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 3}),
            "audience_description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].required = False  # checked by the service, with a clearer message
        self.fields["display_name"].required = False
        zones = [(name, name.replace("_", " ")) for name in time_zone_names()]
        self.fields["time_zone"].choices = [("", _("From my browser or my country")), *zones]  # type: ignore[attr-defined]
        if self.instance.pk and self.instance.terms_accepted_at:
            del self.fields["accept_terms"]

    @property
    def terms_already_accepted(self) -> bool:
        return "accept_terms" not in self.fields
