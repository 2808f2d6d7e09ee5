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


class HandleConnectForm(forms.Form):
    """A "you post, we verify" account: its handle and profile address (checked for form by the provider)."""

    handle = forms.CharField(
        label=_("Your handle"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    profile_url = forms.CharField(
        label=_("Address of your profile"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://"}),
        help_text=_("Optional: we build it from your handle when you leave it empty."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
