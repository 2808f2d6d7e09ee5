from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from influencers.models import InfluencerProfile, Topic
from influencers.topics import LANGUAGE_CHOICES


class TopicChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Topic) -> str:  # type: ignore[override]
        return obj.label


class InfluencerProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    topics = TopicChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Pick what you post about; brands are matched to you by these."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you post in"), choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    accept_terms = forms.BooleanField(
        label=_("I accept the terms: every share I make carries the brand's disclosure (for example #ad)."),
        required=True,
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
        )
        widgets = {"bio": forms.Textarea(attrs={"rows": 3}), "audience_description": forms.Textarea(attrs={"rows": 3})}
