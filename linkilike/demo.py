"""Demo data for ``make run``: idempotent, so it can run on every start.

Each app contributes a ``seed_demo()`` in its own ``demo.py``; ``DEMO_SEEDERS`` lists them
in dependency order. Every demo account uses ``accounts.demo.DEMO_PASSWORD``. Composition (ADR 18):
it reads every app, so it lives in the project package above them; the helpers the apps' own demo
modules use (``demo_user``, ``DemoLogin``) live in ``accounts.demo``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.demo import DemoLogin, demo_user
from accounts.models import User
from brands import demo as brands_demo
from brands.models import Membership
from campaigns import demo as campaigns_demo
from campaigns.matching import demo as matching_demo
from campaigns.publishing import demo as publishing_demo
from influencers import demo as influencers_demo
from influencers.models import InfluencerProfile
from payouts import demo as payouts_demo
from sandbox import demo as sandbox_demo

DEMO_STAFF_EMAIL = "admin@demo.linkilike.test"
# A fixed, public TOTP secret for the demo staff account only, so `make totp` can print codes.
DEMO_STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105

DEMO_SEEDERS: list[Callable[[], list[DemoLogin]]] = [
    brands_demo.seed_demo,
    influencers_demo.seed_demo,
    payouts_demo.seed_demo,
    campaigns_demo.seed_demo,
    sandbox_demo.seed_demo,
    matching_demo.seed_demo,
    publishing_demo.seed_demo,
]


def seed_staff() -> DemoLogin:
    staff = demo_user(email=DEMO_STAFF_EMAIL, full_name="Alex Admin", is_staff=True)
    if not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(staff, DEMO_STAFF_TOTP_SECRET)
    return DemoLogin(role="Platform admin (two-factor: run `make totp` for the code)", email=DEMO_STAFF_EMAIL)


def demo_totp_code(at: float | None = None) -> str:
    counter = int((at if at is not None else time.time()) // settings.MFA_TOTP_PERIOD)
    return format_hotp_value(hotp_value(DEMO_STAFF_TOTP_SECRET, counter))


def seed_all() -> list[DemoLogin]:
    logins = [seed_staff()]
    for seed in DEMO_SEEDERS:
        logins.extend(seed())
    return logins


DEMO_EMAIL_DOMAIN = "@demo.linkilike.test"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str


def demo_account_list() -> list[DemoAccount]:
    """The demo accounts that exist in this database, with the role each one plays (for the landing page)."""
    users = list(User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).order_by("email"))
    memberships = {m.user_id: m for m in Membership.objects.filter(user__in=users).select_related("brand")}
    influencers = set(InfluencerProfile.objects.filter(user__in=users).values_list("user_id", flat=True))
    accounts = []
    for user in users:
        if user.is_staff:
            role = _("Platform admin (two-factor code: make totp)")
        elif user.pk in memberships:
            membership = memberships[user.pk]
            role = _("%(role)s of %(brand)s") % {"role": membership.get_role_display(), "brand": membership.brand.name}
        elif user.pk in influencers:
            role = _("Influencer")
        else:
            continue
        accounts.append(DemoAccount(email=user.email, name=user.get_full_name(), role=role))
    order = {"admin": 0, "owner": 1, "manager": 2}
    return sorted(accounts, key=lambda account: (order.get(account.email.split("@")[0], 3), account.email))
