"""Writes to brands, memberships and invitations. Views call these; nothing else writes."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from brands import tasks
from brands.audit import BrandAuditAction
from brands.errors import (
    BrandError,
    InvitationAlreadyUsed,
    InvitationExpired,
    InvitationForAnotherAccount,
    InvitationInvalid,
    InvitationRateLimited,
    LastOwnerError,
    LogoRejected,
)
from brands.invitation_links import INVITATION_SALT
from brands.models import Brand, BrandRole, Invitation, InvitationStatus, Membership
from brands.slugs import brand_reserved_slugs
from linkilike.audit import audit_record
from linkilike.text_safety import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from linkilike.user_files import image_sniff

BRAND_EDITABLE_FIELDS = ("name", "country", "currency", "category", "website", "logo")
MAX_LOGO_BYTES = 5 * 1024 * 1024
MAX_LOGO_PIXELS = 40_000_000


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "brand"
    slug, counter = base, 2
    # A route word (/b/new/ is the create form) is taken like an existing brand's address.
    while slug in brand_reserved_slugs() or Brand.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _check_name(name: str) -> None:
    # The name goes into email subjects and bodies; forms and the API check it too, this covers every
    # other caller. (Not a model validator: that would need a migration of the brands app.)
    if has_control_characters(str(name)):
        raise BrandError(str(CONTROL_CHARACTERS_MESSAGE))


def _logo_checked(logo: Any) -> Any:
    """An uploaded logo under a name of its sniffed type. The form's image check passes a valid GIF
    that is also JavaScript or HTML, under any name Pillow knows (x.pdf, x.eps), and that name would
    decide how the file is served. A cleared logo (False) or none passes as it is."""
    if not isinstance(logo, UploadedFile):
        return logo
    logo.seek(0)
    data = logo.read(MAX_LOGO_BYTES + 1)
    sniffed = image_sniff(data, max_pixels=MAX_LOGO_PIXELS) if len(data) <= MAX_LOGO_BYTES else None
    if sniffed is None:
        raise LogoRejected(
            _("The logo must be a PNG, JPEG, WebP or GIF image of at most %(max)s MB.")
            % {"max": MAX_LOGO_BYTES // 1024 // 1024}
        )
    return ContentFile(data, name=f"logo.{sniffed.extension}")


@transaction.atomic
def brand_create(*, owner: User, name: str, country: str, currency: str = "EUR", **fields: Any) -> Brand:
    unknown = set(fields) - set(BRAND_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"brand_create() got unexpected fields: {sorted(unknown)}")
    _check_name(name)
    if "logo" in fields:
        fields["logo"] = _logo_checked(fields["logo"])
    brand = Brand.objects.create(name=name, slug=_unique_slug(name), country=country, currency=currency, **fields)
    Membership.objects.create(brand=brand, user=owner, role=BrandRole.OWNER)
    return brand


@transaction.atomic
def brand_update(*, brand: Brand, **fields: Any) -> Brand:
    unknown = set(fields) - set(BRAND_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"brand_update() got unexpected fields: {sorted(unknown)}")
    if "name" in fields:
        _check_name(fields["name"])
    if "logo" in fields:
        fields["logo"] = _logo_checked(fields["logo"])
    for name, value in fields.items():
        setattr(brand, name, value)
    brand.full_clean()
    brand.save(update_fields=list(fields))
    return brand


@transaction.atomic
def brand_demo_mark(*, brand: Brand) -> Brand:
    """Make ``brand`` a demo brand: its campaigns reach the sandbox network's simulated audience.

    Only the demo seed calls this. ``is_demo`` is not in ``BRAND_EDITABLE_FIELDS``, so no brand member
    can set it through a form or the API; otherwise a real brand could buy simulated engagement.
    """
    if not brand.is_demo:
        brand.is_demo = True
        brand.save(update_fields=["is_demo"])
    return brand


def _lock_brand(brand_id: int) -> Brand:
    """Serialises the writers that check a rule over all of a brand's rows (owners, invitations sent).

    Locking the counted rows instead does not work: Django drops ``FOR UPDATE`` from ``count()``
    (two owners demoting each other both counted two owners and both succeeded), and a locking SELECT
    cannot lock rows that do not exist yet (the next invitation). ``no_key``: FOR NO KEY UPDATE still
    excludes the other writers taking this lock, but not the inserts of rows pointing at the brand
    (campaigns, fundings), which take FOR KEY SHARE on it.
    """
    return Brand.objects.select_for_update(no_key=True).get(pk=brand_id)


def _owner_count(brand: Brand) -> int:
    """Owners of ``brand``; exact only while the caller holds ``_lock_brand`` for it."""
    return Membership.objects.filter(brand=brand, role=BrandRole.OWNER).count()


def _lock_membership(membership: Membership) -> Membership:
    # Brand first, then the membership: every path takes the locks in this order, so none deadlocks.
    brand = _lock_brand(membership.brand_id)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    locked.brand = brand
    return locked


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str) -> Membership:
    membership = _lock_membership(membership)
    if membership.role == BrandRole.OWNER and role != BrandRole.OWNER and _owner_count(membership.brand) <= 1:
        raise LastOwnerError(_("A brand needs at least one owner. Make someone else an owner first."))
    role_before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if role != role_before:
        audit_record(
            action=BrandAuditAction.MEMBERSHIP_ROLE_CHANGED,
            target=membership,
            before={"user_id": membership.user_id, "role": role_before},
            after={"user_id": membership.user_id, "role": role},
            brand_id=membership.brand_id,
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    membership = _lock_membership(membership)
    if membership.role == BrandRole.OWNER and _owner_count(membership.brand) <= 1:
        raise LastOwnerError(_("The last owner cannot leave or be removed. Make someone else an owner first."))
    # Recorded before the delete, while the row still has its id; the actor shows whether the member left.
    audit_record(
        action=BrandAuditAction.MEMBERSHIP_REMOVED,
        target=membership,
        before={"user_id": membership.user_id, "role": membership.role},
        after={},
        brand_id=membership.brand_id,
    )
    membership.delete()


def _lock_address(email: str) -> None:
    """Serialises invitations to one address across brands; the address has no row of its own to lock."""
    if connection.vendor != "postgresql":
        return  # SQLite (the demo set-up, ADR 1) runs one writer at a time anyway
    digest = hashlib.blake2b(f"brands.invitation:{email}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def _window_full_until(
    invitations: QuerySet[Invitation], *, limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """When ``invitations`` leave room for one more within ``window``; None when there is room now.

    Every invitation created counts, withdrawn ones too: each was mailed, and re-inviting (which
    withdraws the last one) was how one address got mailed again and again. A limit below 1 is off.
    """
    if limit < 1:
        return None
    newest = invitations.filter(created_at__gt=now - window).order_by("-created_at")
    # While the limit-th newest is inside the window the window is full; it frees a slot on leaving.
    oldest_counted = list(newest.values_list("created_at", flat=True)[limit - 1 : limit])
    return oldest_counted[0] + window if oldest_counted else None


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _check_invitation_limits(*, brand: Brand, email: str, now: datetime) -> None:
    per_brand = settings.INVITATION_LIMIT_PER_BRAND_PER_HOUR
    until = _window_full_until(
        Invitation.objects.filter(brand=brand), limit=per_brand, window=timedelta(hours=1), now=now
    )
    if until is not None:
        raise InvitationRateLimited(
            _("This brand has sent the most invitations allowed in an hour (%(limit)s). Please try again later.")
            % {"limit": per_brand},
            retry_after=_retry_after(until, now),
        )
    per_address = settings.INVITATION_LIMIT_PER_ADDRESS_PER_DAY
    # Across all brands: anyone can create brands, so a per-brand count would not protect the recipient.
    until = _window_full_until(
        Invitation.objects.filter(email__iexact=email), limit=per_address, window=timedelta(days=1), now=now
    )
    if until is not None:
        raise InvitationRateLimited(
            _("%(email)s cannot receive more invitations for now (at most %(limit)s a day). Please try again later.")
            % {"email": email, "limit": per_address},
            retry_after=_retry_after(until, now),
            field="email",
        )


@transaction.atomic
def invitation_create(*, brand: Brand, email: str, role: str, invited_by: User) -> Invitation:
    email = email.strip().lower()
    if Membership.objects.filter(brand=brand, user__email__iexact=email).exists():
        raise BrandError(_("%(email)s is already a member of %(brand)s.") % {"email": email, "brand": brand.name})
    # Both locks before counting, so concurrent requests cannot each see one slot left and all take it.
    _lock_brand(brand.pk)
    _lock_address(email)
    now = timezone.now()
    _check_invitation_limits(brand=brand, email=email, now=now)
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
        action=BrandAuditAction.INVITATION_ACCEPTED,
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
