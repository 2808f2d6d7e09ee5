"""Reads of brand data. Every function takes the scope (a user or a brand) explicitly."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from brands.models import Brand, Invitation, InvitationStatus, Membership


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("brand").order_by("brand__name")


def membership_get_for_user(*, user: User, brand_slug: str) -> Membership:
    """The user's membership of the brand, or 404: non-members cannot tell a brand exists."""
    membership = membership_list_for_user(user=user).filter(brand__slug=brand_slug).first()
    if membership is None:
        raise Http404("No such brand.")
    return membership


def brand_list_for_user(*, user: User) -> QuerySet[Brand]:
    if not user.is_authenticated:
        return Brand.objects.none()
    return Brand.objects.filter(memberships__user=user).order_by("name")


def membership_list_for_brand(*, brand: Brand) -> QuerySet[Membership]:
    return Membership.objects.filter(brand=brand).select_related("user").order_by("role", "user__email")


def invitation_list_pending_for_brand(*, brand: Brand) -> QuerySet[Invitation]:
    return Invitation.objects.filter(brand=brand, status=InvitationStatus.PENDING).select_related("invited_by")


def brand_get_demo(*, slug: str) -> Brand:
    """A demo brand by its address, or 404: the stand-in website exists for demo brands only."""
    brand = Brand.objects.filter(slug=slug, is_demo=True).first()
    if brand is None:
        raise Http404("No such demo brand.")
    return brand
