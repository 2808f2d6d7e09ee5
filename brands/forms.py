from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brands.models import Brand, BrandRole
from linkilike.text_safety import validate_no_control_characters

CURRENCY_CHOICES = [("EUR", "EUR"), ("CHF", "CHF"), ("GBP", "GBP"), ("USD", "USD")]


class BrandForm(forms.ModelForm):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="EUR")
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Brand
        fields = ("name", "country", "currency", "category", "website", "logo")
        help_texts = {"name": _("Shown to influencers on your offers.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["logo"].widget.attrs["accept"] = "image/png,image/jpeg,image/webp"
        # The name goes into email subjects (invitations, offers, caption decisions).
        self.fields["name"].validators.append(validate_no_control_characters)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=BrandRole.choices,
        initial=BrandRole.MANAGER,
        help_text=_("Owners manage money and members; managers run campaigns; analysts read reports."),
    )


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=BrandRole.choices)
