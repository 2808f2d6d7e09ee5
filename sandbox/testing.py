"""Helpers for tests that drive the sandbox over real HTTP (``live_server`` + ``requests``).

Also meant for the networks app's Mastodon adapter tests: ``signed_in_session`` gives a
``requests.Session`` signed in to Linkilike as a user, and ``consent_approve`` walks the
consent page an authorize URL leads to and returns the redirect it ends with.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.test import Client

from accounts.models import User

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in_session(user: User) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


def consent_approve(
    session: requests.Session, authorize_url: str, *, account: str = "new", new_handle: str = ""
) -> str:
    """Opens the consent page, answers "Authorize" as ``account`` (a persona pk or "new") and
    returns the ``Location`` the sandbox redirects to (the app's redirect URI with code and state)."""
    page = session.get(authorize_url, allow_redirects=False, timeout=10)
    page.raise_for_status()
    match = CSRF_INPUT.search(page.text)
    if match is None:
        raise AssertionError(f"no consent form at {authorize_url}: {page.status_code}")
    answer = session.post(
        authorize_url,
        data={
            "csrfmiddlewaretoken": match.group(1),
            "account": account,
            "new_handle": new_handle,
            "decision": "allow",
        },
        headers={"Referer": authorize_url},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 302:
        raise AssertionError(f"consent refused ({answer.status_code}): {answer.text[:500]}")
    return str(answer.headers["Location"])


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
