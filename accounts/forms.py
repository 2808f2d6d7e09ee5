"""Forms of a person's own account pages (API tokens)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from linkilike.text_safety import validate_no_control_characters


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        validators=[validate_no_control_characters],
        help_text=_("What the token is for, so you recognise it in the list, e.g. “CI deploy”."),
    )
