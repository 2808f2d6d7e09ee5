from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories.accounts import TEST_PASSWORD, UserFactory
from tests.factories.brands import MembershipFactory
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sign_up_requires_email_verification_then_lands_on_the_welcome_page() -> None:
    client = Client()

    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.test", "password1": "a-long-secret-42", "password2": "a-long-secret-42"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    confirm = re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
    assert confirm is not None
    client.post(confirm.group(1))
    home = client.get(reverse("home"), follow=True)
    assert "Welcome to Linkilike!" in home.content.decode()


def test_unverified_user_cannot_sign_in() -> None:
    UserFactory(email="pending@example.test", verified=False)

    response = Client().post(reverse("account_login"), {"login": "pending@example.test", "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")


def test_login_lands_a_single_brand_member_on_the_brand() -> None:
    membership = MembershipFactory()
    client = Client()

    response = client.post(
        reverse("account_login"), {"login": membership.user.email, "password": TEST_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("brands:dashboard", kwargs={"brand_slug": membership.brand.slug})


def test_login_lands_an_influencer_on_the_influencer_home() -> None:
    profile = InfluencerProfileFactory()

    response = _client(profile.user).get(reverse("home"))

    assert response["Location"] == reverse("influencers:home")


def test_person_with_several_workspaces_gets_a_switcher() -> None:
    membership = MembershipFactory(brand__name="Acme Bikes")
    MembershipFactory(user=membership.user, brand__name="Zeta Tea")
    InfluencerProfileFactory(user=membership.user, display_name="Rider Rita")

    response = _client(membership.user).get(reverse("home"))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Acme Bikes") < page.index("Zeta Tea")
    assert "Rider Rita" in page


def test_failed_logins_are_rate_limited() -> None:
    UserFactory(email="victim@example.test")
    client = Client()
    wrong = {"login": "victim@example.test", "password": "wrong-password"}
    statuses = [client.post(reverse("account_login"), wrong).status_code for _ in range(8)]

    final = client.post(reverse("account_login"), {"login": "victim@example.test", "password": "wrong-password"})

    assert statuses[0] == 200
    assert final.status_code == 429 or "Too many failed login attempts" in final.content.decode()


def test_staff_without_two_factor_are_sent_to_set_it_up() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)

    response = _client(staff).get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_staff_with_two_factor_reach_the_admin() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    TOTP.activate(staff, generate_totp_secret())

    response = _client(staff).get(reverse("admin:index"))

    assert response.status_code == 200
    assert Authenticator.objects.filter(user=staff).exists()


def test_admin_sign_in_goes_through_the_site_login_with_two_factor() -> None:
    response = Client().get(reverse("admin:login") + "?next=/admin/brands/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=/admin/brands/" in response["Location"]


def test_admin_sign_in_refuses_an_off_site_next() -> None:
    staff = UserFactory(is_staff=True)
    TOTP.activate(staff, generate_totp_secret())

    response = _client(staff).get(reverse("admin:login") + "?next=https://evil.example/")

    assert response["Location"] == reverse("admin:index")


def test_non_staff_get_403_from_the_admin_login() -> None:
    response = _client(UserFactory()).get(reverse("admin:login"))

    assert response.status_code == 403
