from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class MastodonConnectForm(forms.Form):
    instance = forms.CharField(
        label=_("Your Mastodon server"),
        max_length=200,
        help_text=_("The address of the server your account lives on, for example mastodon.social."),
        widget=forms.TextInput(attrs={"placeholder": "mastodon.social", "autocomplete": "url", "inputmode": "url"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
