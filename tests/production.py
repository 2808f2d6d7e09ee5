"""Production settings in a fresh interpreter, for tests of what production does.

The settings read the environment once, when they are imported, so a test of a production default
(no sandbox, a deploy check, object storage) starts a new process with production's environment
instead of overriding settings in this one.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: A throwaway Fernet key: production refuses to run without vault keys.
VAULT_KEY = "RXJYWjZvdUtGbkVxQWdnS3N5dUR2S0hBb2ZrZ2x3T0E="
#: Production refuses to start without its payment providers' settings (linkilike/settings.py); made-up values.
MONEY_ENV = {
    "PAYOUTS_PLATFORM_ACCOUNT_NAME": "Linkilike Test GmbH",
    "PAYOUTS_PLATFORM_IBAN": "AT291200000123456789",
    "PAYOUTS_PLATFORM_BIC": "BKAUATWW",
    "STRIPE_SECRET_KEY": "sk_test_production_settings_probe",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_settings_probe",
    "PAYPAL_CLIENT_ID": "paypal-production-settings-probe",
    "PAYPAL_CLIENT_SECRET": "paypal-production-settings-probe-secret",
}


def production_env(**extra: str) -> dict[str, str]:
    """This process's environment with production's switches set (``extra`` last, so it wins)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "linkilike.settings",
        "DJANGO_DEBUG": "0",
        "LINKILIKE_TESTING": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "linkilike.example",
        "LINKILIKE_FIELD_ENCRYPTION_KEYS": VAULT_KEY,
        **MONEY_ENV,
        **extra,
    }


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python <args>`` in the project folder with ``env`` (``manage.py ...`` or ``-c <script>``)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def probe(script: str, *, env: dict[str, str]) -> dict[str, Any]:
    """Run ``script`` (which prints one JSON object last) with ``env``; its answer."""
    result = run_python("-c", script, env=env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))
