from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands import services
from brands.errors import BrandError
from brands.invitation_links import invitation_token
from brands.models import BrandRole, Invitation, InvitationStatus, Membership
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory

pytestmark = pytest.mark.django_db


def _invite(email: str = "colleague@example.test", role: str = BrandRole.MANAGER) -> tuple[Invitation, str]:
    owner_membership = MembershipFactory(role=BrandRole.OWNER)
    invitation = services.invitation_create(
        brand=owner_membership.brand, email=email, role=role, invited_by=owner_membership.user
    )
    return invitation, reverse("brands:invitation", kwargs={"token": invitation_token(invitation=invitation)})


def _client_for(email: str) -> Client:
    client = Client()
    client.force_login(UserFactory(email=email))
    return client


def test_owner_invites_by_form_and_colleague_accepts_from_the_emailed_link(
    django_capture_on_commit_callbacks,
) -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    owner_client = Client()
    owner_client.force_login(owner.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("brands:members", kwargs={"brand_slug": owner.brand.slug}),
            {"email": "Colleague@Example.test", "role": BrandRole.ANALYST},
        )

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["colleague@example.test"]
    link = re.search(r"http://\S+/invitations/\S+/", mail.outbox[0].body)
    assert link is not None
    assert mail.outbox[0].alternatives  # an HTML part as well
    colleague = _client_for("colleague@example.test")
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    page = colleague.get("/" + path)
    assert owner.brand.name in page.content.decode()
    accepted = colleague.post("/" + path, {"answer": "accept"})
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("brands:dashboard", kwargs={"brand_slug": owner.brand.slug})
    assert Membership.objects.get(brand=owner.brand, user__email="colleague@example.test").role == BrandRole.ANALYST
    dashboard = colleague.get(accepted["Location"])
    assert dashboard.status_code == 200


def test_reused_link_is_refused_with_a_clear_message() -> None:
    invitation, path = _invite()
    client = _client_for(invitation.email)
    client.post(path, {"answer": "accept"})

    second = client.post(path, {"answer": "accept"})

    assert second.status_code == 400
    assert "already been used" in second.content.decode()
    assert Membership.objects.filter(brand=invitation.brand, user__email=invitation.email).count() == 1


def test_expired_link_is_refused_with_a_clear_message() -> None:
    invitation, path = _invite()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client = _client_for(invitation.email)

    response = client.post(path, {"answer": "accept"})

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Membership.objects.filter(brand=invitation.brand, user__email=invitation.email).exists()


def test_link_past_its_signature_age_is_refused(settings) -> None:
    invitation, path = _invite()
    settings.INVITATION_MAX_AGE = timedelta(seconds=-1)
    client = _client_for(invitation.email)

    response = client.get(path)

    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_link_opened_by_another_account_is_refused_and_names_the_invited_address() -> None:
    invitation, path = _invite(email="invited@example.test")
    intruder = _client_for("someone-else@example.test")

    response = intruder.post(path, {"answer": "accept"})

    assert response.status_code == 400
    assert "invited@example.test" in response.content.decode()
    assert not Membership.objects.filter(brand=invitation.brand, user__email="someone-else@example.test").exists()
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.PENDING


def test_tampered_link_is_refused() -> None:
    _invitation, path = _invite()
    client = _client_for("colleague@example.test")

    response = client.get(path[:-6] + "xxxxx/")

    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_withdrawn_invitation_cannot_be_accepted() -> None:
    invitation, path = _invite()
    services.invitation_revoke(invitation=invitation)
    client = _client_for(invitation.email)

    response = client.post(path, {"answer": "accept"})

    assert response.status_code == 400
    assert not Membership.objects.filter(brand=invitation.brand, user__email=invitation.email).exists()


def test_decline_records_the_answer_and_adds_no_member() -> None:
    invitation, path = _invite()
    client = _client_for(invitation.email)

    client.post(path, {"answer": "decline"})

    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(brand=invitation.brand, user__email=invitation.email).exists()


def test_anonymous_visitor_is_sent_to_sign_in_and_back() -> None:
    _invitation, path = _invite()

    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]


def test_inviting_an_existing_member_is_refused() -> None:
    membership = MembershipFactory(role=BrandRole.OWNER)

    with pytest.raises(BrandError, match="already a member"):
        services.invitation_create(
            brand=membership.brand, email=membership.user.email, role=BrandRole.MANAGER, invited_by=membership.user
        )


def test_reinviting_replaces_the_pending_invitation() -> None:
    membership = MembershipFactory(role=BrandRole.OWNER)
    first = services.invitation_create(
        brand=membership.brand, email="x@example.test", role=BrandRole.MANAGER, invited_by=membership.user
    )
    services.invitation_create(
        brand=membership.brand, email="x@example.test", role=BrandRole.ANALYST, invited_by=membership.user
    )

    assert Invitation.objects.get(pk=first.pk).status == InvitationStatus.REVOKED
    assert Invitation.objects.filter(brand=membership.brand, status=InvitationStatus.PENDING).count() == 1


def test_non_owner_cannot_invite() -> None:
    manager = MembershipFactory(role=BrandRole.MANAGER)
    client = Client()
    client.force_login(manager.user)

    response = client.post(
        reverse("brands:members", kwargs={"brand_slug": manager.brand.slug}),
        {"email": "x@example.test", "role": BrandRole.OWNER},
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()
