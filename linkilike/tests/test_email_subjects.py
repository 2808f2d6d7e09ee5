"""Every email subject is one line, whatever the stored names in it hold (defence in depth)."""

from __future__ import annotations

import pytest
from django.core import mail

from brands import tasks as brand_tasks
from linkilike.emails import email_render, email_send
from linkilike.text_safety import has_control_characters, single_line, validate_no_control_characters
from tests.factories.brands import BrandFactory, InvitationFactory

# Stored before names were checked at input (or written by a path that skipped the check).
STORED_NAME = "Acme\r\nBcc: everyone@example.test\x0bReset\u2028your\u202e password"


@pytest.mark.django_db
def test_an_invitation_from_a_brand_with_a_line_break_in_its_stored_name_still_sends() -> None:
    invitation = InvitationFactory(brand=BrandFactory(name=STORED_NAME))

    brand_tasks.invitation_email_send(invitation.pk)

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "[Linkilike] You are invited to join Acme Bcc: everyone@example.test Reset your password"
    headers = sent.message().as_string().split("\n\n", 1)[0]
    assert "\nBcc:" not in headers
    assert sent.recipients() == [invitation.email]


@pytest.mark.django_db
def test_email_send_flattens_whatever_a_subject_template_renders() -> None:
    email_send(
        to="someone@example.test",
        template="campaigns/email/campaign_approved",
        context={"campaign": {"name": "Spring\r\n\nRoast"}, "campaign_path": "/x/"},
    )

    assert mail.outbox[0].subject == "[Linkilike] Your campaign “Spring Roast” was approved"


def test_email_render_keeps_ordinary_subjects_as_they_are() -> None:
    rendered = email_render(template="brands/email/invitation", context={"brand": {"name": "Tom's Café 👩\u200d💻"}})

    assert rendered.subject == "[Linkilike] You are invited to join Tom's Café 👩\u200d💻"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a\r\nb", "a b"),
        ("  a \t\t b  ", "a b"),
        ("a\x00b\x7fc\x85d", "a b c d"),
        ("a\u2028b\u2029c", "a b c"),
        ("a\u202eb\u2066c", "abc"),
        ("Café 👩\u200d💻", "Café 👩\u200d💻"),
    ],
)
def test_single_line(value: str, expected: str) -> None:
    assert single_line(value) == expected
    assert not has_control_characters(single_line(value))


def test_the_validator_accepts_names_and_refuses_control_characters() -> None:
    from django.core.exceptions import ValidationError

    validate_no_control_characters("Müller & Söhne 👩\u200d💻")
    for value in ("a\nb", "a\rb", "a\tb", "a\x00b", "a\u2028b", "a\u202eb"):
        with pytest.raises(ValidationError):
            validate_no_control_characters(value)
