"""Connected social accounts and the OAuth apps Linkilike registered on Mastodon-API servers.

Secrets live in ``EncryptedTextField`` columns (networks.vault) and are never part of
``__str__``/``__repr__``, admin pages, API answers or logs.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from networks.providers.registry import network_choices
from networks.vault import EncryptedTextField


class Network(StrEnum):
    """Keys of networks that code names on purpose (the sandbox's demo gate, the Mastodon address form).

    Not the list of networks: that is ``settings.NETWORK_PROVIDERS`` (names and choices come from the
    provider classes, ``networks.providers.registry``); a new network needs no member here.
    """

    SANDBOX = "sandbox"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    X = "x"
    INSTAGRAM = "instagram"
    THREADS = "threads"
    FACEBOOK = "facebook"
    LINKEDIN = "linkedin"
    TUMBLR = "tumblr"


class AccountStatus(models.TextChoices):
    HEALTHY = "healthy", _("Healthy")
    EXPIRING = "expiring", _("Expiring soon")
    NEEDS_RECONSENT = "needs_reconsent", _("Needs reconnecting")
    REVOKED = "revoked", _("Revoked")


class OAuthApp(models.Model):
    """Linkilike's client registration on one server (Mastodon registers apps per instance)."""

    network = models.CharField(_("network"), max_length=20, choices=network_choices)
    instance_url = models.URLField(_("instance URL"), max_length=300)
    redirect_uri = models.URLField(_("redirect URI"), max_length=500)
    scopes = models.CharField(_("scopes"), max_length=300)
    client_id = models.CharField(_("client ID"), max_length=300)
    client_secret = EncryptedTextField(_("client secret"))
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        verbose_name = _("OAuth app registration")
        verbose_name_plural = _("OAuth app registrations")
        ordering = ("instance_url",)
        constraints = [
            models.UniqueConstraint(
                fields=("network", "instance_url", "redirect_uri", "scopes"), name="networks_oauthapp_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} · {self.instance_url}"


class NetworkAppCredential(models.Model):
    """Linkilike's app on a fixed-URL network (X, Meta, LinkedIn, Tumblr, ...), entered by staff.

    Takes precedence over the ``*_CLIENT_ID`` / ``*_APP_SECRET`` settings; without either the
    network shows as "not configured". The secret is encrypted and never displayed again.
    """

    network = models.CharField(_("network"), max_length=20, choices=network_choices, unique=True)
    client_id = models.CharField(_("client / app ID"), max_length=300)
    client_secret = EncryptedTextField(_("client / app secret"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("network app credential")
        verbose_name_plural = _("network app credentials")
        ordering = ("network",)

    def __str__(self) -> str:
        return str(self.get_network_display())


class ConnectedAccount(models.Model):
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.CASCADE,
        related_name="connected_accounts",
        verbose_name=_("influencer"),
    )
    network = models.CharField(_("network"), max_length=20, choices=network_choices)
    instance_url = models.URLField(_("server"), max_length=300)
    external_id = models.CharField(_("account ID on the network"), max_length=200)
    handle = models.CharField(_("handle"), max_length=300)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    profile_url = models.URLField(_("profile URL"), max_length=500, blank=True)
    avatar_url = models.URLField(_("avatar URL"), max_length=500, blank=True)
    followers_count = models.PositiveIntegerField(_("followers"), null=True, blank=True)
    profile_refreshed_at = models.DateTimeField(_("profile refreshed"), null=True, blank=True)

    status = models.CharField(
        _("health"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.HEALTHY, db_index=True
    )
    access_token = EncryptedTextField(_("access token"))
    refresh_token = EncryptedTextField(_("refresh token"))
    token_scope = models.CharField(_("granted scopes"), max_length=300, blank=True)
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True, db_index=True)
    token_refreshed_at = models.DateTimeField(_("token refreshed"), null=True, blank=True)
    reconsent_warned_at = models.DateTimeField(_("reconnect warning sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)

    connected_at = models.DateTimeField(_("connected"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("connected account")
        verbose_name_plural = _("connected accounts")
        ordering = ("network", "handle")
        constraints = [
            models.UniqueConstraint(
                fields=("influencer", "network", "instance_url", "external_id"),
                name="networks_connectedaccount_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.get_network_display()})"

    @property
    def handle_local(self) -> str:
        """``@name`` of ``@name@server`` (the server is shown separately)."""
        name, _separator, _server = self.handle.lstrip("@").partition("@")
        return f"@{name}"

    @property
    def server_host(self) -> str:
        return urlsplit(self.instance_url).netloc

    @property
    def is_usable(self) -> bool:
        """Posts can be published and measured with this account right now."""
        return self.status in (AccountStatus.HEALTHY, AccountStatus.EXPIRING)
