"""Production refuses to start without its payment providers' settings (linkilike/settings.py).

Each case loads the settings as production does, in a fresh interpreter (tests/production.py), with one
money setting emptied: the start fails with ImproperlyConfigured naming the setting and what needs it.
Development (DJANGO_DEBUG=1) starts without any of them: it runs on the local checkout and doubles.
"""

from __future__ import annotations

import pytest

from tests.production import MONEY_ENV, production_env, run_python

LOAD_SETTINGS = "import linkilike.settings"


def test_production_starts_with_every_money_setting() -> None:
    result = run_python("-c", LOAD_SETTINGS, env=production_env())

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "needed_for"),
    [
        ("PAYOUTS_PLATFORM_IBAN", "bank_transfer, sepa"),
        ("PAYOUTS_PLATFORM_BIC", "bank_transfer, sepa"),
        ("PAYOUTS_PLATFORM_ACCOUNT_NAME", "bank_transfer, sepa"),
        ("STRIPE_SECRET_KEY", "card, stripe"),
        ("STRIPE_WEBHOOK_SECRET", "card"),
        ("PAYPAL_CLIENT_ID", "paypal"),
        ("PAYPAL_CLIENT_SECRET", "paypal"),
    ],
)
def test_production_refuses_to_start_without_a_money_setting(name: str, needed_for: str) -> None:
    result = run_python("-c", LOAD_SETTINGS, env=production_env(**{name: ""}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} (for {needed_for})" in result.stderr


def test_production_names_every_missing_money_setting_at_once() -> None:
    result = run_python("-c", LOAD_SETTINGS, env=production_env(**dict.fromkeys(MONEY_ENV, " ")))

    assert result.returncode != 0
    assert all(name in result.stderr for name in MONEY_ENV), result.stderr


def test_development_starts_without_money_settings() -> None:
    env = production_env(DJANGO_DEBUG="1", **dict.fromkeys(MONEY_ENV, ""))

    result = run_python("-c", LOAD_SETTINGS, env=env)

    assert result.returncode == 0, result.stderr
