"""Test-only helper for the browser journey (tests/browser): staff set-up and time travel.

It lives in the bench app, which production never installs (settings add it only for tests, benchmarks and
the journey).

Refuses to run unless DEBUG is on or LINKILIKE_JOURNEY=1 is set (the journey sets it), so it can
never move clocks or create staff accounts on a real deployment.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from brands.models import Brand
from brands.services import brand_demo_mark
from campaigns.earnings.services import earnings_release_due
from campaigns.metrics.services import metrics_pull_due
from campaigns.models import Campaign, Match, Offer, SharePublication
from campaigns.publishing.tasks import publications_run_due
from campaigns.tracking.services import click_earnings_accrue_due, clicks_drain
from payouts.models import PayoutRequest
from sandbox.services import community_seed
from sandbox.simulation import simulation_step


class Command(BaseCommand):
    help = "Browser-journey steps (tests only): staff, community, demo_brand, pipeline, release, state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["staff", "community", "demo_brand", "pipeline", "release", "state"])
        parser.add_argument("--brand", default="", help="demo_brand: the name of the brand to make a demo brand")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default="")
        parser.add_argument("--secret", default="")
        parser.add_argument("--days", type=int, default=0, help="move 'now' this many days ahead")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or os.environ.get("LINKILIKE_JOURNEY") == "1"):
            raise CommandError("journey_step only runs with DEBUG or LINKILIKE_JOURNEY=1 (tests).")
        now = timezone.now() + timedelta(days=options["days"])
        action = options["action"]
        if action == "staff":
            result: dict[str, Any] = self._staff(options["email"], options["password"], options["secret"])
        elif action == "community":
            result = {"community": len(community_seed(size=200))}
        elif action == "demo_brand":
            # The journey's brands sign up like real ones, but publish to the sandbox, which only a demo
            # brand may reach; no page can make a demo brand, so the journey does it here.
            result = {"demo_brand": brand_demo_mark(brand=Brand.objects.get(name=options["brand"])).slug}
        elif action == "pipeline":
            result = self._pipeline(now)
        elif action == "release":
            result = {"released": earnings_release_due(now=now)}
        else:
            result = self._state()
        self.stdout.write(json.dumps(result, default=str))

    def _staff(self, email: str, password: str, secret: str) -> dict[str, Any]:
        user, _ = User.objects.get_or_create(
            email=email, defaults={"full_name": "Sam Staff", "is_staff": True, "is_superuser": True}
        )
        user.set_password(password)
        user.save()
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, secret)
        return {"staff": user.pk}

    def _pipeline(self, now: Any) -> dict[str, Any]:
        """One turn of the periodic work beat would do: publish due, simulate, pull metrics, drain clicks."""
        published = publications_run_due()
        # The simulation advances each post of the last 48 hours; step it through a post's first two days.
        real_now = timezone.now()
        reports = [simulation_step(now=real_now + timedelta(hours=hours)) for hours in (1, 6, 24, 47)]
        simulated = {
            "favourites": sum(r.favourites for r in reports),
            "reblogs": sum(r.reblogs for r in reports),
            "replies": sum(r.replies for r in reports),
        }
        pulled = metrics_pull_due(now=now)
        drained = clicks_drain()
        clicks_booked = click_earnings_accrue_due(now=now + timedelta(hours=2))
        return {
            "published": published,
            "simulated": simulated,
            "pulled": str(pulled),
            "drained": drained,
            "clicks_booked": clicks_booked,
        }

    def _state(self) -> dict[str, Any]:
        return {
            "campaigns": list(Campaign.objects.values_list("status", flat=True)),
            "matches": list(Match.objects.values_list("status", flat=True)),
            "offers": list(Offer.objects.values_list("status", flat=True)),
            "publications": list(SharePublication.objects.values_list("state", flat=True)),
            "payouts": list(PayoutRequest.objects.values_list("status", flat=True)),
        }
