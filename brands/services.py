"""Writes to brands, memberships and invitations. Views call these; nothing else writes."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from brands import tasks
from brands.errors import (
    BrandError,
    InvitationAlreadyUsed,
    InvitationExpired,
    InvitationForAnotherAccount,
    InvitationInvalid,
    LastOwnerError,
)
from brands.models import Brand, BrandRole, Invitation, InvitationStatus, Membership
from linkilike.audit import audit_record
from linkilike.models import AuditAction

INVITATION_SALT = "brands.invitation"
BRAND_EDITABLE_FIELDS = ("name", "country", "currency", "category", "website", "logo")


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "brand"
    slug, counter = base, 2
    while Brand.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


@transaction.atomic
def brand_create(*, owner: User, name: str, country: str, currency: str = "EUR", **fields: Any) -> Brand:
    unknown = set(fields) - set(BRAND_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"brand_create() got unexpected fields: {sorted(unknown)}")
    brand = Brand.objects.create(name=name, slug=_unique_slug(name), country=country, currency=currency, **fields)
    Membership.objects.create(brand=brand, user=owner, role=BrandRole.OWNER)
    return brand


@transaction.atomic
def brand_update(*, brand: Brand, **fields: Any) -> Brand:
    unknown = set(fields) - set(BRAND_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"brand_update() got unexpected fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(brand, name, value)
    brand.full_clean()
    brand.save(update_fields=list(fields))
    return brand


def _owner_count(brand: Brand) -> int:
    return Membership.objects.select_for_update().filter(brand=brand, role=BrandRole.OWNER).count()


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == BrandRole.OWNER and role != BrandRole.OWNER and _owner_count(membership.brand) <= 1:
        raise LastOwnerError(_("A brand needs at least one owner. Make someone else an owner first."))
    role_before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if role != role_before:
        audit_record(
            action=AuditAction.MEMBERSHIP_ROLE_CHANGED,
            target=membership,
            before={"user_id": membership.user_id, "role": role_before},
            after={"user_id": membership.user_id, "role": role},
            brand_id=membership.brand_id,
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == BrandRole.OWNER and _owner_count(membership.brand) <= 1:
        raise LastOwnerError(_("The last owner cannot leave or be removed. Make someone else an owner first."))
    # Recorded before the delete, while the row still has its id; the actor shows whether the member left.
    audit_record(
        action=AuditAction.MEMBERSHIP_REMOVED,
        target=membership,
        before={"user_id": membership.user_id, "role": membership.role},
        after={},
        brand_id=membership.brand_id,
    )
    membership.delete()


@transaction.atomic
def invitation_create(*, brand: Brand, email: str, role: str, invited_by: User) -> Invitation:
    email = email.strip().lower()
    if Membership.objects.filter(brand=brand, user__email__iexact=email).exists():
        raise BrandError(_("%(email)s is already a member of %(brand)s.") % {"email": email, "brand": brand.name})
    now = timezone.now()
    # A new invitation replaces an older pending one to the same address.
    Invitation.objects.filter(brand=brand, email=email, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED, responded_at=now
    )
    try:
        invitation = Invitation.objects.create(
            brand=brand,
            email=email,
            role=role,
            invited_by=invited_by,
            nonce=secrets.token_hex(16),
            created_at=now,
            expires_at=now + settings.INVITATION_MAX_AGE,
        )
    except IntegrityError as exc:  # a concurrent invite to the same address won
        raise BrandError(_("An invitation to %(email)s is already pending.") % {"email": email}) from exc
    transaction.on_commit(lambda: tasks.invitation_email_send.delay(invitation.pk))
    return invitation


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT, compress=True)


def invitation_get_from_token(*, token: str) -> Invitation:
    """The invitation a signed link points to; refuses forged and stale links."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvitationExpired(_("This invitation has expired. Ask the brand to send you a new one.")) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied all of it.")) from exc
    invitation = Invitation.objects.select_related("brand").filter(pk=payload.get("i"), nonce=payload.get("n")).first()
    if invitation is None:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied all of it."))
    return invitation


def _check_answerable(invitation: Invitation, user: User) -> None:
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationAlreadyUsed(
            _("This invitation has already been used or withdrawn. Ask the brand for a new one if you need it.")
        )
    if invitation.is_expired:
        raise InvitationExpired(_("This invitation has expired. Ask the brand to send you a new one."))
    if user.email.lower() != invitation.email.lower():
        raise InvitationForAnotherAccount(
            _(
                "This invitation was sent to %(email)s, but you are signed in as %(current)s. "
                "Sign in with the invited address to accept it."
            )
            % {"email": invitation.email, "current": user.email}
        )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    invitation = Invitation.objects.select_for_update().select_related("brand").get(pk=invitation.pk)
    _check_answerable(invitation, user)
    membership, created = Membership.objects.get_or_create(
        brand=invitation.brand, user=user, defaults={"role": invitation.role}
    )
    invitation.status = InvitationStatus.ACCEPTED
    invitation.responded_at = timezone.now()
    invitation.responded_by = user
    invitation.save(update_fields=["status", "responded_at", "responded_by"])
    audit_record(
        action=AuditAction.INVITATION_ACCEPTED,
        target=invitation,
        actor=user,
        before={"status": InvitationStatus.PENDING, "member": False},
        after={
            "status": invitation.status,
            "member": True,
            "membership_id": membership.pk,
            "role": membership.role,
            "already_member": not created,
            "invited_by_id": invitation.invited_by_id,
        },
        brand_id=invitation.brand_id,
    )
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_answerable(invitation, user)
    invitation.status = InvitationStatus.DECLINED
    invitation.responded_at = timezone.now()
    invitation.responded_by = user
    invitation.save(update_fields=["status", "responded_at", "responded_by"])


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED, responded_at=timezone.now()
    )
