"""After five failed sign-ins for one address the rightful owner is paused too; the page says how to get in.

allauth's ``login_failed`` limit (ACCOUNT_RATE_LIMITS, ``5/5m/key``) refuses even the right password,
so the refusal must name the way in that works while it lasts: the password reset, whose email is
sent regardless (its own, separate limit) and whose completion lifts the pause.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories.accounts import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
NEW_PASSWORD = "a-new-long-passphrase-7"


def _lock(client: Client, email: str) -> None:
    for n in range(5):
        answer = client.post(LOGIN, {"login": email, "password": f"wrong-{n}"})
        assert answer.status_code == 200
        assert "reset your password" not in _form_errors(answer)


def _form_errors(response: Any) -> str:
    """The HTML of the form-wide error list (the password field's own help link is not part of it)."""
    found = re.search(r'<ul class="errorlist nonfield">(.*?)</ul>', response.content.decode(), re.S)
    return found.group(1) if found else ""


def test_the_sixth_attempt_says_how_to_get_in_with_a_link_to_the_password_reset(client: Client) -> None:
    user = UserFactory(email="lena@example.test")
    _lock(client, user.email)

    answer = client.post(LOGIN, {"login": user.email, "password": TEST_PASSWORD})

    errors = _form_errors(answer)
    assert "Too many failed login attempts, so signing in with a password is paused" in errors
    assert f'<a href="{reverse("account_reset_password")}">reset your password</a>' in errors
    assert "_auth_user_id" not in client.session


def test_an_unknown_address_gets_the_same_answer(client: Client) -> None:
    """The pause and its message do not tell whether an account exists."""
    _lock(client, "nobody@example.test")
    answer = client.post(LOGIN, {"login": "nobody@example.test", "password": "anything"})
    assert f'<a href="{reverse("account_reset_password")}">' in _form_errors(answer)


def test_the_password_reset_sends_its_email_while_locked_and_the_new_password_works_at_once(client: Client) -> None:
    user = UserFactory(email="lena@example.test")
    _lock(client, user.email)

    answer = client.post(reverse("account_reset_password"), {"email": user.email})

    assert answer.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    assert found, mail.outbox[0].body
    form_url = client.get(found.group(1), follow=True).redirect_chain[-1][0]
    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302, _form_errors(done)

    signed_in = client.post(LOGIN, {"login": user.email, "password": NEW_PASSWORD})

    assert signed_in.status_code == 302, _form_errors(signed_in)
    assert client.session["_auth_user_id"] == str(user.pk)
