"""S8: CSRF on session writes, security headers, and a clean `check --deploy` in production."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from brands.models import BrandRole, Invitation
from tests.factories.brands import MembershipFactory
from tests.production import production_env, run_python

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_session_form_post_without_csrf_token_is_refused_and_changes_nothing() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)

    response = client.post(
        reverse("brands:members", kwargs={"brand_slug": owner.brand.slug}),
        {"email": "x@example.test", "role": BrandRole.MANAGER},
    )

    assert response.status_code == 403
    assert "form session expired" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_session_api_write_without_csrf_token_is_refused() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)

    response = client.post(
        reverse("brand-invitations-list", kwargs={"brand_slug": owner.brand.slug}),
        data={"email": "x@example.test"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_session_write_with_csrf_token_succeeds() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    page = client.get(reverse("brands:members", kwargs={"brand_slug": owner.brand.slug}))
    token = page.context["csrf_token"]

    response = client.post(
        reverse("brands:members", kwargs={"brand_slug": owner.brand.slug}),
        {"email": "x@example.test", "role": BrandRole.MANAGER, "csrfmiddlewaretoken": str(token)},
    )

    assert response.status_code == 302
    assert Invitation.objects.filter(email="x@example.test").exists()


@pytest.mark.django_db
def test_pages_carry_security_headers_and_a_content_security_policy() -> None:
    response = Client().get(reverse("landing"))

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = production_env(
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linkilike"),
        # Production stores uploads on object storage (linkilike.W001 warns about the file system).
        LINKILIKE_MEDIA_S3_BUCKET="linkilike-media",
    )
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = run_python("manage.py", "check", env=production_env(DJANGO_SECRET_KEY=""))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
