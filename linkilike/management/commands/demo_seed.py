from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import DEMO_PASSWORD
from linkilike.demo import seed_all


class Command(BaseCommand):
    help = "Create the demo brand, team, influencers and staff account (safe to run repeatedly)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX_ENABLED:
            # The demo's influencers post to the sandbox network, which production does not run (ADR 17).
            raise CommandError(
                "The demo needs the sandbox network: run it in development (DJANGO_DEBUG=1) "
                "or turn the sandbox on explicitly with LINKILIKE_SANDBOX_ENABLED=1."
            )
        with transaction.atomic():
            logins = seed_all()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Open {settings.SITE_URL}/ and sign in with password '{DEMO_PASSWORD}':")
        for login in logins:
            self.stdout.write(f"  {login.role:<28} {login.email}")
