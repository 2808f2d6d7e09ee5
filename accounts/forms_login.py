"""allauth's sign-in form with Linkilike's answer to a locked address (ACCOUNT_FORMS["login"])."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

LOCKED_CODE = "too_many_login_attempts"


def login_locked_message() -> SafeString:
    """What the sign-in form says while allauth's ``login_failed`` limit refuses an address.

    The limit counts failures per address, so it also stops the rightful owner, even with the right
    password; allauth's "Try again later" leaves them guessing. The password reset is the way in that
    works meanwhile: its email has its own limit, and completing it lifts the pause (allauth clears
    ``login_failed`` for the account's addresses), see accounts/tests/test_login_lockout.py.
    """
    return format_html(
        gettext(
            # Not "for this email address": the same limit also counts failures per network address.
            "Too many failed login attempts, so signing in with a password is paused for a few minutes. "
            "To get in now, {link_start}reset your password{link_end}: the email with the reset link is sent "
            "while sign-in is paused, and the new password works straight away."
        ),
        link_start=format_html('<a href="{}">', reverse("account_reset_password")),
        link_end=mark_safe("</a>"),  # a constant closing tag
    )


class LoginForm(AllauthLoginForm):
    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError as error:
            if getattr(error, "code", None) != LOCKED_CODE:
                raise
            raise ValidationError(login_locked_message(), code=LOCKED_CODE) from error
