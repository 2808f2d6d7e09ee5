from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from linkilike.demo import DEMO_STAFF_EMAIL, demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff account (demo data only)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{DEMO_STAFF_EMAIL}: {demo_totp_code()}")
