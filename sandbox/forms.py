from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sandbox.models import SandboxPersona

NEW_ACCOUNT = "new"


class ConsentForm(forms.Form):
    """Which sandbox account the app may act as: one of the person's own, or a new one."""

    account = forms.ChoiceField(label=_("Sign in to the sandbox as"), widget=forms.RadioSelect)
    new_handle = forms.CharField(
        label=_("Handle, if you create a new sandbox account"),
        required=False,
        max_length=30,
        help_text=_(
            "Lowercase letters, digits and underscores. The account is public on the sandbox and shows your "
            "display name; simulated followers who share your topics follow it."
        ),
    )

    def __init__(self, *args: Any, personas: list[SandboxPersona], suggested_handle: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(p.pk), f"@{p.handle} · {p.display_name}") for p in personas]
        choices.append((NEW_ACCOUNT, str(_("Create a new sandbox account"))))
        self.fields["account"].choices = choices  # type: ignore[attr-defined]
        self.fields["account"].initial = choices[0][0]
        self.fields["new_handle"].initial = suggested_handle

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("account") == NEW_ACCOUNT and not (cleaned.get("new_handle") or "").strip():
            self.add_error("new_handle", _("Choose a handle for the new account."))
        return cleaned

    @property
    def persona_id(self) -> int | None:
        value = self.cleaned_data.get("account")
        return None if value == NEW_ACCOUNT or not value else int(value)
