"""Writes about a person's own credentials: personal API tokens.

Tokens are django-rest-knox tokens (``accounts.ApiToken``): the database keeps a SHA-512 digest
and the first characters (to recognise a token in the list), never the token itself, so a copy
of the database cannot be used to call the API. Each token expires after ``REST_KNOX["TOKEN_TTL"]``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AccountAuditAction
from accounts.errors import ApiTokenLimitReached
from accounts.models import ApiToken, User
from accounts.selectors import api_token_list_for_user
from linkilike.audit import audit_record

#: More live tokens than anyone needs for their scripts; a cap keeps a stolen session from minting many.
API_TOKENS_PER_PERSON = 20


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the raw token, which is shown once and never stored."""
    # Lock the person's row so two parallel requests cannot both pass the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if api_token_list_for_user(user=user).count() >= API_TOKENS_PER_PERSON:
        raise ApiTokenLimitReached(
            _("You already have %(count)d API tokens. Revoke one you no longer use first.")
            % {"count": API_TOKENS_PER_PERSON}
        )
    token, raw = ApiToken.objects.create(user=user, name=name.strip()[:100])
    audit_record(
        action=AccountAuditAction.API_TOKEN_CREATED,
        target=user,
        after={"id": token.pk, "name": token.name, "expires": token.expiry.isoformat() if token.expiry else None},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    deleted, _by_model = ApiToken.objects.filter(pk=token.pk).delete()
    if deleted:
        audit_record(
            action=AccountAuditAction.API_TOKEN_REVOKED,
            target=token.user,
            before={"id": token.pk, "name": token.name},
        )


@transaction.atomic
def api_tokens_revoke_all(*, user: User) -> int:
    """Revokes every token of ``user`` (also the expired ones); returns how many there were."""
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    if deleted:
        audit_record(action=AccountAuditAction.API_TOKENS_REVOKED, target=user, before={"count": deleted})
    return deleted
