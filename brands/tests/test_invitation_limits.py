"""Invitations cannot be used as a mail relay: limits per brand and per recipient address."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from brands import services
from brands.errors import InvitationRateLimited
from brands.models import BrandRole, Invitation, Membership
from tests.factories.brands import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _owner() -> Membership:
    return cast(Membership, MembershipFactory(role=BrandRole.OWNER))


def _invite(owner: Membership, email: str) -> Invitation:
    return services.invitation_create(brand=owner.brand, email=email, role=BrandRole.MANAGER, invited_by=owner.user)


def _age(invitations: object, by: timedelta) -> None:
    for invitation in Invitation.objects.filter(pk__in=[i.pk for i in invitations]):
        Invitation.objects.filter(pk=invitation.pk).update(created_at=invitation.created_at - by)


def test_defaults_are_twenty_an_hour_per_brand_and_three_a_day_per_address() -> None:
    from django.conf import settings

    assert settings.INVITATION_LIMIT_PER_BRAND_PER_HOUR == 20
    assert settings.INVITATION_LIMIT_PER_ADDRESS_PER_DAY == 3


def test_a_brand_sends_at_most_twenty_invitations_an_hour() -> None:
    owner = _owner()
    sent = [_invite(owner, f"colleague{n}@elsewhere.test") for n in range(20)]

    with pytest.raises(InvitationRateLimited, match="most invitations allowed in an hour") as refused:
        _invite(owner, "one-more@example.test")

    assert Invitation.objects.filter(brand=owner.brand).count() == 20
    assert 0 < refused.value.retry_after <= 3600
    _age(sent[:1], timedelta(hours=1, seconds=1))  # the oldest leaves the window
    _invite(owner, "one-more@example.test")


def test_an_address_receives_at_most_three_invitations_a_day_even_when_each_revokes_the_last(
    django_capture_on_commit_callbacks,
) -> None:
    owner = _owner()

    for _attempt in range(25):  # the reported abuse: re-inviting in a loop mails again each time
        try:
            with django_capture_on_commit_callbacks(execute=True):
                _invite(owner, "victim@example.test")
        except InvitationRateLimited:
            pass

    assert len(mail.outbox) == 3
    assert Invitation.objects.filter(email="victim@example.test").count() == 3


def test_the_address_limit_counts_invitations_from_every_brand() -> None:
    sent = [_invite(_owner(), "Victim@Example.test") for _ in range(3)]

    with pytest.raises(InvitationRateLimited, match=r"victim@example\.test cannot receive more invitations"):
        _invite(_owner(), "victim@example.test")

    _age(sent[:1], timedelta(days=1, seconds=1))
    _invite(_owner(), "victim@example.test")


def test_limits_come_from_settings(settings) -> None:
    settings.INVITATION_LIMIT_PER_BRAND_PER_HOUR = 2
    owner = _owner()
    _invite(owner, "a@example.test")
    _invite(owner, "b@example.test")

    with pytest.raises(InvitationRateLimited):
        _invite(owner, "c@example.test")


def test_the_members_page_explains_the_limit_and_keeps_the_input() -> None:
    owner = _owner()
    for _ in range(3):
        InvitationFactory(email="victim@example.test")
    client = Client()
    client.force_login(owner.user)

    response = client.post(
        reverse("brands:members", kwargs={"brand_slug": owner.brand.slug}),
        {"email": "victim@example.test", "role": BrandRole.ANALYST},
    )

    page = response.content.decode()
    assert response.status_code == 429
    assert "victim@example.test cannot receive more invitations" in page
    assert 'value="victim@example.test"' in page
    assert '<option value="analyst" selected>' in page
    assert not Invitation.objects.filter(brand=owner.brand).exists()


def test_the_members_page_explains_the_brand_limit(settings) -> None:
    settings.INVITATION_LIMIT_PER_BRAND_PER_HOUR = 1
    owner = _owner()
    _invite(owner, "first@example.test")
    client = Client()
    client.force_login(owner.user)

    response = client.post(
        reverse("brands:members", kwargs={"brand_slug": owner.brand.slug}),
        {"email": "second@example.test", "role": BrandRole.MANAGER},
    )

    assert response.status_code == 429
    assert "most invitations allowed in an hour" in response.content.decode()
    assert 'value="second@example.test"' in response.content.decode()


def test_the_api_answers_429_with_the_message_and_retry_after() -> None:
    owner = _owner()
    for _ in range(3):
        InvitationFactory(email="victim@example.test")
    client = APIClient()
    client.force_authenticate(owner.user)

    response = client.post(
        reverse("brand-invitations-list", kwargs={"brand_slug": owner.brand.slug}),
        {"email": "victim@example.test"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="limit-1",
    )

    assert response.status_code == 429
    assert response.json()["detail"] == (
        "victim@example.test cannot receive more invitations for now (at most 3 a day). Please try again later."
    )
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert not Invitation.objects.filter(brand=owner.brand).exists()
