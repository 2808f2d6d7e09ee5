"""One form of address in German: "Sie" everywhere (issue "What people see", 18).

The app says "Sie"; django-allauth's German (sign-in, sign-up, password reset) and Django REST framework's
(Django's validator messages) say "du". ``locale_overrides/`` re-translates them; these tests scan the
effective German catalogue (every app's merged, as Django looks strings up) and the pages people see before
they have an account.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import trans_real

#: "du" pronouns, the verb forms that only go with "du", and du-imperatives at the start of a request.
DU_FORMS = re.compile(
    r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|euch|euer|eure)\b"
    r"|\b(hast|bist|kannst|musst|möchtest|willst|solltest|erhältst|siehst|wirst|brauchst|darfst)\b"
    r"|\bbitte (gib|wähle|versuche|klick|klicke|kontaktiere|lass|folge|bestätige|melde|überprüfe|habe|trage)\b"
    r"|(^|[.!?:]\s+)(Gib|Lass|Rufe|Bestätige|Melde|Wähle|Klicke?|Verwende|Kontaktiere|Trage|Füge|Lade|Öffne)\s",
    re.IGNORECASE,
)


def _effective_german() -> dict[object, str]:
    """Every msgid any catalogue knows, with the German Django actually uses for it."""
    with translation.override("de"):
        catalog = trans_real.translation("de")._catalog
        return {key: str(catalog.get(key)) for key in set(catalog.keys()) if key}


def test_the_effective_german_catalogue_says_sie() -> None:
    offenders = {key: text for key, text in _effective_german().items() if DU_FORMS.search(text)}

    assert offenders == {}, "translate these in the Sie form (locale_overrides/de/LC_MESSAGES/django.po)"


def test_allauth_strings_on_the_sign_in_pages_are_ours() -> None:
    german = translation.gettext  # an alias: allauth's and Django's msgids, not new ones of ours
    forgotten = (
        "Forgotten your password? Enter your email address below, and we'll send you an email allowing you to reset it."
    )
    with translation.override("de"):
        assert german(forgotten).startswith("Passwort vergessen? Geben Sie")
        assert german("Enter a valid email address.") == "Geben Sie eine gültige E-Mail-Adresse ein."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("account_login", None),
        ("account_signup", None),
        ("account_signup", {"email": "not-an-address", "password1": "x", "password2": "y"}),
        ("account_login", {"login": "nobody@example.org", "password": "wrong-password-123"}),
        ("account_reset_password", None),
        ("account_reset_password_done", None),
        ("account_email_verification_sent", None),
    ],
)
def test_sign_in_sign_up_and_password_reset_pages_say_sie(url: str, data: dict[str, str] | None) -> None:
    client = Client()
    client.cookies["django_language"] = "de"
    response = client.post(reverse(url), data) if data is not None else client.get(reverse(url))

    assert response.status_code in (200, 400)
    text = strip_tags(response.content.decode())
    assert 'lang="de"' in response.content.decode()
    found = [match.group(0) for match in DU_FORMS.finditer(text)]
    assert found == [], f"{url}: {found}"
