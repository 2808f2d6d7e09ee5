"""The signed token in an invitation link: made when the email is sent, read when the link is opened."""

from __future__ import annotations

from django.core import signing

from brands.models import Invitation

INVITATION_SALT = "brands.invitation"


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT, compress=True)
