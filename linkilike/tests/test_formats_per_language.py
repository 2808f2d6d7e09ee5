"""One format per language for money, dates, counts and "how long ago" (issue "What people see", 19 and 20).

German: "6,00 €", "02.11.2026", "vor 9 Minuten"; English: "€6.00", "2 Nov 2026", "9 minutes ago". Both
money filters (campaign pages and payouts pages; one page often loads both) give the same text, counts go
through plural forms, and the brand dashboard words its notices in the reader's language.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from linkilike.i18n import money_format

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", 600, "EUR", "€6.00"),
        ("en", 1_234_567, "EUR", "€12,345.67"),
        ("en", -600, "EUR", "-€6.00"),
        ("en", 600, "CHF", f"CHF{NBSP}6.00"),
        ("en", 600, "PLN", f"PLN{NBSP}6.00"),
        ("de", 600, "EUR", f"6,00{NBSP}€"),
        ("de", 1_234_567, "EUR", f"12.345,67{NBSP}€"),
        ("de", -600, "EUR", f"-6,00{NBSP}€"),
        ("de", 600, "CHF", f"6,00{NBSP}CHF"),
    ],
)
def test_money_has_one_format_per_language(language: str, amount: int, currency: str, expected: str) -> None:
    with translation.override(language):
        assert money_format(amount, currency) == expected


@pytest.mark.parametrize("language", ["en", "de"])
def test_both_money_filters_agree(language: str) -> None:
    context = Context({"amount": 123_456})
    with translation.override(language):
        campaigns = Template("{% load campaign_tags %}{{ amount|money:'EUR' }}").render(context)
        payouts = Template("{% load money %}{{ amount|money:'EUR' }}").render(context)
    assert campaigns == payouts
    assert "EUR" not in campaigns


def test_dates_are_day_first_in_both_languages() -> None:
    day = date(2026, 11, 2)
    with translation.override("en"):
        assert date_format(day, "SHORT_DATE_FORMAT") == "2 Nov 2026"
        assert date_format(day, "DATE_FORMAT") == "2 November 2026"
    with translation.override("de"):
        assert date_format(day, "SHORT_DATE_FORMAT") == "02.11.2026"
        assert date_format(day, "DATE_FORMAT") == "2. November 2026"
    moment = datetime(2026, 11, 2, 15, 30, tzinfo=timezone.get_current_timezone())
    with translation.override("en"):
        assert date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") == "2 Nov 2026, 15:30"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "since", "approved"),
    [
        ("en", "9 minutes ago", "was approved; its budget is reserved."),
        ("de", "vor 9 Minuten", "wurde genehmigt; das Budget ist reserviert."),
    ],
)
def test_dashboard_notices_speak_the_readers_language(language: str, since: str, approved: str) -> None:
    from campaigns.models import CampaignStatus, Notification, NotificationKind
    from campaigns.services import campaign_reject
    from tests.factories.brands import MembershipFactory
    from tests.factories.campaigns import ready_campaign

    membership = MembershipFactory()
    rejected = ready_campaign(brand=membership.brand, status=CampaignStatus.IN_REVIEW, name="Winter roast")
    with translation.override("en"):  # staff decide in English
        campaign_reject(campaign=rejected, reviewed_by=None, reason="Needs a sharper image.")
        Notification.objects.create(
            brand=membership.brand,
            campaign=rejected,
            kind=NotificationKind.CAMPAIGN_APPROVED,
            message="“Winter roast” was approved; its budget is reserved.",
        )
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=9, seconds=5))
    client = Client()
    client.force_login(membership.user)
    client.cookies["django_language"] = language

    html = client.get(reverse("brands:dashboard", args=[membership.brand.slug])).content.decode()

    notices = html.split('class="notices"', 1)[1].split("</ul>", 1)[0].replace(NBSP, " ")
    assert approved in notices
    assert "Needs a sharper image." in notices  # the reviewer's words, as written
    assert notices.count(since) == 2
    assert " her<" not in notices
    assert " ago" not in notices.replace(since, "")
    if language == "de":
        assert "was approved" not in notices
        assert "was not approved" not in notices


@pytest.mark.django_db
def test_counts_use_plural_forms(settings: object, django_capture_on_commit_callbacks: object) -> None:
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from tests.factories.accounts import UserFactory
    from tests.factories.campaigns import MatchFactory

    settings.STAFF_MFA_REQUIRED = False
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    queue = reverse("admin:campaigns_match_changelist")

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        approved = staff.post(
            queue, {"action": "approve_selected", ACTION_CHECKBOX_NAME: [MatchFactory().pk]}, follow=True
        )
    rejected = staff.post(
        queue,
        {"action": "reject_selected", ACTION_CHECKBOX_NAME: [MatchFactory().pk], "reason": "Not a fit"},
        follow=True,
    )

    assert "1 match approved; the influencer gets the offer by email." in approved.content.decode()
    assert "1 match rejected." in rejected.content.decode()
    with translation.override("de"):
        plural = translation.ngettext  # an alias: these are the admin's msgids, not new ones from a test
        assert plural("%(count)s match rejected.", "%(count)s matches rejected.", 1) % {"count": 1} == (
            "1 Vorschlag abgelehnt."
        )
