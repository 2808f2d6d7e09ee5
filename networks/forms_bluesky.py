from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BlueskyConnectForm(forms.Form):
    handle = forms.CharField(
        label=_("Your Bluesky handle"),
        max_length=253,
        help_text=_("For example name.bsky.social, or your own domain."),
        widget=forms.TextInput(
            attrs={"placeholder": "name.bsky.social", "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    app_password = forms.CharField(
        label=_("App password"),
        max_length=100,
        strip=True,
        help_text=_(
            "Create one in Bluesky under Settings, Privacy and security, App passwords. "
            "Linkilike uses it once to connect and does not keep it."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "xxxx-xxxx-xxxx-xxxx"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
