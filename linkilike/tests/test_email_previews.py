from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from linkilike.demo import seed_all
from linkilike.email_previews import email_preview_list
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def _staff_client() -> Client:
    staff = UserFactory(is_staff=True, is_superuser=True)
    TOTP.activate(staff, generate_totp_secret())
    client = Client()
    client.force_login(staff)
    return client


def test_staff_preview_every_notification_email_in_english_and_german() -> None:
    seed_all()
    client = _staff_client()

    listing = client.get(reverse("email-previews")).content.decode()
    english = client.get(reverse("email-preview", args=["offer-new", "en"])).content.decode()
    german = client.get(reverse("email-preview", args=["offer-new", "de"])).content.decode()
    html = client.get(reverse("email-preview-html", args=["offer-new", "de"]))

    for preview in email_preview_list():
        assert str(preview.label) in listing
    assert "New offer from Alpenglow Coffee" in english
    assert "Neues Angebot" in german
    assert "per 1,000 people reached" not in german  # the pay terms are rendered in German too
    assert html.status_code == 200
    assert "<html" in html.content.decode()


def test_every_preview_renders_in_both_languages_once_examples_exist() -> None:
    seed_all()
    client = _staff_client()

    previews = email_preview_list()
    for preview in previews:
        for language in ("en", "de"):
            response = client.get(reverse("email-preview", args=[preview.key, language]))
            assert response.status_code == 200, (preview.key, language)
    # Every app that sends notification emails registered its previews (ADR 18: the core lists none of them).
    assert {preview.key for preview in previews} == {
        "invitation",
        "campaign-approved",
        "campaign-rejected",
        "funds-needed",
        "caption-waiting",
        "offer-new",
        "caption-decision",
        "reconsent-warning",
        "payout-status",
    }


def test_people_who_are_not_staff_cannot_open_previews() -> None:
    client = Client()
    client.force_login(UserFactory())

    response = client.get(reverse("email-previews"))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_plain_text_and_subjects_are_not_html_escaped_but_the_html_part_is() -> None:
    from campaigns.jobs import campaign_status_email_context
    from linkilike.emails import email_render
    from tests.factories.campaigns import CampaignFactory

    campaign = CampaignFactory(name="Tom's <Autumn> & Co")
    rendered = email_render(
        template="campaigns/email/campaign_approved",
        context=campaign_status_email_context(campaign=campaign, user=None),
        language="en",
    )

    assert "Tom's <Autumn> & Co" in rendered.subject + rendered.text
    assert "&#x27;" not in rendered.subject + rendered.text
    assert "Tom&#x27;s &lt;Autumn&gt; &amp; Co" in rendered.html
