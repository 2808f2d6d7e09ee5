"""Audit actions are registered by the apps that record them (ADR 18): the core lists none of them, an
unregistered action is refused, and the admin still filters and labels every action, translated."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from brands.audit import BrandAuditAction
from linkilike import audit_actions
from linkilike.audit import audit_record
from linkilike.audit_actions import AuditCategory, UnknownAuditAction
from linkilike.models import AuditEvent
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory

pytestmark = pytest.mark.django_db


def test_each_app_registers_its_own_actions_and_the_core_none() -> None:
    by_app: dict[str, set[str]] = defaultdict(set)
    for info in audit_actions.action_list():
        by_app[info.app_label].add(info.value)

    assert set(by_app) == {"accounts", "brands", "campaigns", "payouts"}
    assert by_app["brands"] == {"membership.role_changed", "membership.removed", "invitation.accepted"}
    assert by_app["accounts"] == {
        "user.permissions_changed",
        "user.mfa_added",
        "user.mfa_removed",
        "user.api_token_created",
        "user.api_token_revoked",
        "user.api_tokens_revoked",
    }
    assert {"campaign.approved", "budget.reserved", "share.hold_released"} <= by_app["campaigns"]
    assert {"funding.confirmed", "payout.sent", "payout_destination.added"} <= by_app["payouts"]
    assert not any(value.startswith(("budget.", "campaign.")) for value in by_app["payouts"])  # money layer


def test_the_categories_come_with_the_registration() -> None:
    assert audit_actions.action_get("budget.reserved").category == AuditCategory.MONEY
    assert audit_actions.action_get("campaign.approved").category == AuditCategory.MODERATION
    assert audit_actions.action_get("membership.removed").category == AuditCategory.PERMISSION


def test_an_unregistered_action_is_refused_and_nothing_is_written() -> None:
    user = UserFactory()

    with pytest.raises(UnknownAuditAction, match=r"campaign\.exploded"), transaction.atomic():
        audit_record(action="campaign.exploded", target=user)

    assert not AuditEvent.objects.exists()
    assert issubclass(UnknownAuditAction, ValueError)


def test_an_app_cannot_register_another_apps_action_or_one_too_long() -> None:
    class Stolen(models.TextChoices):
        PAYOUT_SENT = "payout.sent", _("Payout sent")

    class TooLong(models.TextChoices):
        LONG = "x." + "y" * audit_actions.ACTION_MAX_LENGTH, _("Long")

    before = audit_actions.action_list()

    with pytest.raises(ImproperlyConfigured, match="already registered"):
        audit_actions.register("brands", Stolen, category=AuditCategory.PERMISSION)
    with pytest.raises(ImproperlyConfigured, match="longer than"):
        audit_actions.register("brands", TooLong, category=AuditCategory.PERMISSION)

    assert audit_actions.action_list() == before
    audit_actions.register("brands", BrandAuditAction, category=AuditCategory.PERMISSION)  # again: harmless
    assert audit_actions.action_list() == before


def test_the_field_reads_its_choices_from_the_registry_with_translated_labels() -> None:
    field = AuditEvent._meta.get_field("action")
    choices = dict(field.choices or [])
    event = AuditEvent(action=BrandAuditAction.MEMBERSHIP_ROLE_CHANGED)

    assert set(choices) == {info.value for info in audit_actions.action_list()}
    with translation.override("de"):
        assert event.get_action_display() == "Rolle eines Mitglieds geändert"
        assert str(choices["payout.sent"]) == "Auszahlung gesendet"


@pytest.fixture
def staff(settings: Any) -> Client:
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_admin_filters_by_action_and_shows_its_label_in_german(staff: Client) -> None:
    membership = MembershipFactory()
    with transaction.atomic():
        audit_record(
            action=BrandAuditAction.MEMBERSHIP_ROLE_CHANGED,
            target=membership,
            before={"role": "analyst"},
            after={"role": "manager"},
        )
    url = reverse("admin:platform_auditevent_changelist")

    listing = staff.get(url, HTTP_ACCEPT_LANGUAGE="de")
    filtered = staff.get(url, {"action__exact": "membership.role_changed"}, HTTP_ACCEPT_LANGUAGE="de")
    other = staff.get(url, {"action__exact": "payout.sent"}, HTTP_ACCEPT_LANGUAGE="de")

    html = re.sub(r"\s+", " ", listing.content.decode())
    assert listing.status_code == 200
    assert "?action__exact=payout.sent" in html  # the filter offers every registered action, not only used ones
    assert "Auszahlung gesendet" in html  # … by its translated label
    assert "Rolle eines Mitglieds geändert" in html  # the row's action, translated
    assert filtered.context["cl"].result_count == 1
    assert other.context["cl"].result_count == 0
