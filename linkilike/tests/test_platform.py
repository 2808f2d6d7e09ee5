from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from linkilike.log_filters import RedactSecretsFilter, redact
from linkilike.tasks import heartbeat


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer abc.def.ghi",
        "POST /oauth/token access_token=s3cr3t&scope=read",
        '{"refresh_token": "s3cr3t", "ok": 1}',
        "client_secret=s3cr3t",
        "{'accessJwt': 's3cr3t'}",
    ],
)
def test_secrets_are_redacted_from_log_lines(line: str) -> None:
    cleaned = redact(line)

    assert "s3cr3t" not in cleaned
    assert "abc.def.ghi" not in cleaned
    assert "[redacted]" in cleaned


def test_the_log_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", ("access_token=s3cr3t",), None)

    RedactSecretsFilter().filter(record)

    assert "s3cr3t" not in record.getMessage()


@pytest.mark.django_db
def test_health_reports_database_cache_and_the_worker_heartbeat() -> None:
    before = Client().get(reverse("healthz")).json()
    heartbeat.delay()
    after = Client().get(reverse("healthz")).json()

    assert before["database"] is True
    assert before["cache"] is True
    assert before["worker"] is False
    assert after["worker"] is True


@pytest.mark.django_db
def test_error_pages_are_friendly(settings) -> None:
    settings.DEBUG = False

    response = Client().get("/no/such/page/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.django_db
def test_the_landing_page_lists_the_demo_accounts_only_when_enabled(settings) -> None:
    from linkilike.demo import seed_all

    seed_all()
    settings.LINKILIKE_SHOW_DEMO_LOGINS = True
    page = Client().get(reverse("landing")).content.decode()
    settings.LINKILIKE_SHOW_DEMO_LOGINS = False
    production = Client().get(reverse("landing")).content.decode()

    assert "owner@demo.linkilike.test" in page
    assert "Owner of Alpenglow Coffee" in page
    assert "lena@demo.linkilike.test" in page
    assert "admin@demo.linkilike.test" in page
    assert "linkilike-demo" in page
    assert "owner@demo.linkilike.test" not in production
