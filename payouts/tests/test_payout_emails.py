"""Influencers are emailed when their payout is approved, sent, failed or rejected; once per change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from campaigns.earnings.services import earnings_accrue, earnings_release_due
from linkilike import emails
from payouts import jobs
from payouts.models import PayoutStatus
from payouts.services.batches import payout_batches_run
from payouts.services.destinations import payout_destination_add
from payouts.services.payouts import (
    payout_approve,
    payout_mark_failed,
    payout_mark_sent,
    payout_reject,
    payout_request,
)
from payouts.tests.helpers import delta, funded_campaign, influencer
from tests.factories.payouts import CharityFactory

pytestmark = pytest.mark.django_db

IBAN = "AT61 1904 3002 3457 3201"


def _payout(person: Any = None, *, amount_minor: int = 2_550) -> Any:
    """A requested payout of ``amount_minor`` to an Austrian IBAN, from EUR 50.00 of available earnings."""
    person = person or influencer()
    campaign = funded_campaign(budget=100_000)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", share=f"s-{person.pk}", engagements=500), now=now)
    earnings_release_due(now=now + timedelta(days=15))
    destination = payout_destination_add(influencer=person, kind="sepa", holder_name="Lena Berger", iban=IBAN)
    return payout_request(influencer=person, amount_minor=amount_minor, currency="EUR", destination=destination)


def _html(message: Any) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(html)


def test_approved_payout_says_it_goes_with_the_next_batch(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    with django_capture_on_commit_callbacks(execute=True):
        payout_approve(payout=payout, reviewed_by=None)

    [message] = mail.outbox
    assert message.to == [payout.influencer.user.email]
    assert "€25.50" in message.subject
    assert "approved" in message.subject
    assert "next payout batch" in message.body


def test_sent_payout_names_the_amount_and_the_masked_destination(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    payout_approve(payout=payout, reviewed_by=None)  # not captured: its email is not under test here
    with django_capture_on_commit_callbacks(execute=True):
        payout_mark_sent(payout=payout, provider_reference="E2E-42")

    [message] = mail.outbox
    html = _html(message)
    assert message.to == [payout.influencer.user.email]
    assert "€25.50" in message.subject
    for part in (message.body, html):
        assert "€25.50" in part
        assert "Bank account (SEPA) AT61 •••• 3201" in part
        assert "E2E-42" in part
        assert "3002" not in part  # the middle of the IBAN is never shown
        assert "back in your balance" not in part
        assert f"{settings.SITE_URL}/i/earnings/" in part


def test_failed_payout_gives_the_reason_and_says_the_money_is_back(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    payout_approve(payout=payout, reviewed_by=None)
    payout_mark_sent(payout=payout)
    with django_capture_on_commit_callbacks(execute=True):
        payout_mark_failed(payout=payout, reason="Account closed by the bank's customer")

    [message] = mail.outbox
    assert "could not be completed" in message.subject
    for part in (message.body, _html(message)):
        assert "€25.50" in part
        assert "back in your balance" in part
        assert "check your payout account" in part
    assert "Account closed by the bank's customer" in message.body  # plain text is not HTML-escaped
    assert "Account closed by the bank&#x27;s customer" in _html(message)


def test_rejected_payout_gives_the_reason(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    with django_capture_on_commit_callbacks(execute=True):
        payout_reject(payout=payout, reviewed_by=None, reason="Destination under review")

    [message] = mail.outbox
    assert "rejected" in message.subject
    for part in (message.body, _html(message)):
        assert "Destination under review" in part
        assert "back in your balance" in part
        assert "check your payout account" not in part


def test_marking_sent_twice_sends_one_email(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    payout_approve(payout=payout, reviewed_by=None)
    with django_capture_on_commit_callbacks(execute=True):
        payout_mark_sent(payout=payout, provider_reference="E2E-1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        payout_mark_sent(payout=payout, provider_reference="E2E-1")
        payout_mark_failed(payout=payout, reason="returned")
        payout_mark_failed(payout=payout, reason="returned")

    assert len(callbacks) == 1  # only the first failure: the repeated calls returned early and enqueued nothing
    assert [m.subject.split("payout of €25.50 ")[-1] for m in mail.outbox] == [
        "is on its way",
        "could not be completed",
    ]


def test_nothing_is_sent_before_the_change_commits(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payout_approve(payout=payout, reviewed_by=None)

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_stale_or_missing_payout_sends_nothing() -> None:
    payout = _payout()
    payout_approve(payout=payout, reviewed_by=None)
    payout_mark_sent(payout=payout)

    jobs.payout_status_email_send.delay(payout.pk, PayoutStatus.APPROVED)  # overtaken by "sent"
    jobs.payout_status_email_send.delay(-1, PayoutStatus.SENT)
    assert mail.outbox == []

    jobs.payout_status_email_send.delay(payout.pk, PayoutStatus.SENT)
    assert len(mail.outbox) == 1


def test_batch_run_emails_each_sent_payout_including_donations(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    donation = payout_request(
        influencer=payout.influencer, amount_minor=2_000, currency="EUR", charity=CharityFactory(name="Tierschutz Linz")
    )
    for item in (payout, donation):
        payout_approve(payout=item, reviewed_by=None)
    with django_capture_on_commit_callbacks(execute=True):
        payout_batches_run()

    bodies = sorted(message.body for message in mail.outbox)
    assert len(bodies) == 2
    assert "€20.00" in bodies[0]
    assert "Donation to Tierschutz Linz" in bodies[0]
    assert "AT61 •••• 3201" in bodies[1]


def test_email_is_rendered_in_the_preferred_language(monkeypatch: pytest.MonkeyPatch) -> None:
    payout = _payout()
    user = payout.influencer.user
    user.preferred_language = "de"
    user.save(update_fields=["preferred_language"])
    payout_reject(payout=payout, reviewed_by=None, reason="x")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(emails, "email_send", lambda **kwargs: calls.append(kwargs))

    jobs.payout_status_email_send.delay(payout.pk, PayoutStatus.REJECTED)

    [call] = calls
    assert call["language"] == "de"
    assert call["template"] == "payouts/email/payout_status"


def test_a_german_speaking_influencer_gets_the_email_in_german(django_capture_on_commit_callbacks: Any) -> None:
    payout = _payout()
    user = payout.influencer.user
    user.preferred_language = "de"
    user.save(update_fields=["preferred_language"])
    with django_capture_on_commit_callbacks(execute=True):
        payout_reject(payout=payout, reviewed_by=None, reason="x")

    assert "Ihre Auszahlung von" in mail.outbox[0].subject
    assert "abgelehnt" in mail.outbox[0].subject
    assert "Das Geld ist wieder in Ihrem Guthaben." in mail.outbox[0].body
