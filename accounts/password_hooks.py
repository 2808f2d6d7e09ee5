"""Revoking API tokens whenever a password changes, whichever way it changes.

Django calls ``password_changed`` on every configured password validator after a user is saved
with a new password (``set_password`` then ``save``): allauth's change, set and reset flows, the
admin's password form and ``manage.py changepassword`` all end there, while the silent re-hash on
login (a hasher upgrade) does not. One hook here covers every path, where allauth's
``password_changed``/``password_reset`` signals would miss the admin and the command.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.services import api_tokens_revoke_all


class RevokeApiTokensOnPasswordChange:
    """Listed in ``AUTH_PASSWORD_VALIDATORS`` for its hook; it accepts every password."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None and user.pk is not None:
            api_tokens_revoke_all(user=user)

    def get_help_text(self) -> str:
        # Shown with the other password rules (Django lists every validator's text), so it tells people.
        return _("Setting a new password revokes all your API tokens.")
