"""Brands are the tenants: every campaign, budget and report belongs to exactly one brand."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class BrandRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    ANALYST = "analyst", _("Analyst")


class BrandAction(models.TextChoices):
    """What a member may do; roles are bundles of actions (see ROLE_ACTIONS)."""

    VIEW = "view", _("View the workspace and reports")
    EDIT_CAMPAIGNS = "edit_campaigns", _("Create, edit and submit campaigns")
    APPROVE_CAPTIONS = "approve_captions", _("Approve influencer captions")
    FUND = "fund", _("Fund the workspace")
    CANCEL_CAMPAIGNS = "cancel_campaigns", _("Cancel campaigns")
    MANAGE_MEMBERS = "manage_members", _("Invite and remove members")
    MANAGE_BRAND = "manage_brand", _("Edit the brand profile")


ROLE_ACTIONS: dict[str, frozenset[str]] = {
    BrandRole.ANALYST: frozenset({BrandAction.VIEW}),
    BrandRole.MANAGER: frozenset({BrandAction.VIEW, BrandAction.EDIT_CAMPAIGNS, BrandAction.APPROVE_CAPTIONS}),
    BrandRole.OWNER: frozenset(BrandAction.values),
}


LOGO_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "gif")


def brand_logo_path(instance: Brand, filename: str) -> str:
    """A name of ours: the client's name decides how a web server types the file (x.html, x.pdf).
    ``brands.services`` names an upload after its sniffed type; any other name (the admin's upload
    field) keeps only an image extension, else ``.bin``, which nothing serves as a page or script."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"brands/{instance.slug}/logo/{secrets.token_hex(8)}.{extension if extension in LOGO_EXTENSIONS else 'bin'}"


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    country = CountryField(_("country"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    category = models.CharField(
        _("category"), max_length=60, blank=True, help_text=_("Used to flag conflicts with competitors.")
    )
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to=brand_logo_path, blank=True)
    # Only a demo brand may reach the sandbox network's simulated audience (match, offer, publish,
    # pay): otherwise simulated engagement would earn real money from a real brand. Set by the demo
    # seed (``brands.services.brand_demo_mark``) only; no form, API input or admin field writes it.
    is_demo = models.BooleanField(
        _("demo brand"),
        default=False,
        editable=False,
        help_text=_("Demo brands run campaigns on the sandbox network; real brands never reach it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("brand"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=BrandRole.choices, default=BrandRole.MANAGER)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ("brand__name", "user__email")
        constraints = [models.UniqueConstraint(fields=("brand", "user"), name="membership_unique_user_per_brand")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.brand} ({self.role})"

    def can(self, action: str) -> bool:
        return action in ROLE_ACTIONS[self.role]


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("brand"))
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=BrandRole.choices, default=BrandRole.MANAGER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    nonce = models.CharField(max_length=32, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("brand", "email"),
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} -> {self.brand}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
