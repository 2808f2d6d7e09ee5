"""Audit of permission changes: staff flags and groups edited in the Django admin, two-factor methods
added or removed through allauth, and personal API tokens created and revoked (``accounts.services``,
in the token's own transaction; the trail names the token, never its secret or digest).

The admin saves the user and its groups in one transaction, so the event commits with the
change. allauth announces MFA changes by signal after its own commit, so those events are
written in their own transaction right after (the only hook allauth gives).

The actions are registered here with ``linkilike.audit_actions``.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa import signals as mfa_signals
from django.db import models, transaction
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from linkilike import audit_actions
from linkilike.audit import audit_record
from linkilike.audit_actions import AuditCategory


class AccountAuditAction(models.TextChoices):
    USER_PERMISSIONS_CHANGED = "user.permissions_changed", _("Staff flags or groups changed")
    MFA_ADDED = "user.mfa_added", _("Two-factor method added")
    MFA_REMOVED = "user.mfa_removed", _("Two-factor method removed")
    API_TOKEN_CREATED = "user.api_token_created", _("API token created")
    API_TOKEN_REVOKED = "user.api_token_revoked", _("API token revoked")
    API_TOKENS_REVOKED = "user.api_tokens_revoked", _("All API tokens revoked")


audit_actions.register("accounts", AccountAuditAction, category=AuditCategory.PERMISSION)

PERMISSION_FLAGS = ("is_active", "is_staff", "is_superuser")


def permission_state(*, user: User) -> dict[str, Any]:
    """What the user may do: the flags, group names and direct permissions (codenames)."""
    return {
        **{flag: getattr(user, flag) for flag in PERMISSION_FLAGS},
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "user_permissions": sorted(user.user_permissions.values_list("codename", flat=True)),
    }


def permission_change_record(*, user: User, before: dict[str, Any] | None, actor: User | None) -> None:
    """Records the change if there is one; a new user counts when created with any permission."""
    after = permission_state(user=user)
    if before is None:
        if not (after["is_staff"] or after["is_superuser"] or after["groups"] or after["user_permissions"]):
            return
        before = {}
    if after == before:
        return
    changed = sorted(key for key in after if before.get(key) != after[key])
    audit_record(
        action=AccountAuditAction.USER_PERMISSIONS_CHANGED,
        target=user,
        actor=actor,
        before={key: before.get(key) for key in changed},
        after={key: after[key] for key in changed},
    )


def _mfa_record(action: str, request: Any, user: User, authenticator: Any) -> None:
    actor = getattr(request, "user", None)
    with transaction.atomic():
        audit_record(
            action=action,
            target=user,
            actor=actor if actor is not None and actor.is_authenticated else user,
            after={"authenticator": authenticator.type},
        )


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender: Any, request: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    _mfa_record(AccountAuditAction.MFA_ADDED, request, user, authenticator)


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    _mfa_record(AccountAuditAction.MFA_REMOVED, request, user, authenticator)
