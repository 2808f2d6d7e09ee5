"""Demo accounts (``make run``): what every app's ``seed_demo()`` uses to create its people.

The seeding itself is composed in ``linkilike.demo`` (ADR 18: the project package wires the apps);
the helpers live here, in the lowest app, so every app's demo module may use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress

from accounts.models import User

DEMO_PASSWORD = "linkilike-demo"  # noqa: S105 - documented demo credential, demo data only


@dataclass(frozen=True)
class DemoLogin:
    """One line of the demo-logins list ``make run`` prints: who to sign in as, for what."""

    role: str
    email: str


def demo_user(*, email: str, full_name: str, is_staff: bool = False) -> User:
    """A verified demo account with the demo password (created once, never reset)."""
    user, created = User.objects.get_or_create(
        email=email, defaults={"full_name": full_name, "is_staff": is_staff, "is_superuser": is_staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user
