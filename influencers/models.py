"""Influencers: the people who share brand content. Profile and topics for now."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from influencers.topics import TOPICS


class Topic(models.Model):
    slug = models.SlugField(_("key"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ("slug",)

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        return str(TOPICS.get(self.slug, self.slug))


class TaxStatus(models.TextChoices):
    PRIVATE = "private", _("Private person")
    SMALL_BUSINESS = "small_business", _("Small business, VAT exempt")
    VAT_REGISTERED = "vat_registered", _("VAT registered business")


class InfluencerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="influencer_profile",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=80)
    bio = models.TextField(_("bio"), blank=True, max_length=1000)
    country = CountryField(_("country"), blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    #: Where the influencer's "local time" is (scheduled posts): from the browser on onboarding, else from
    #: the country (``influencers.timezones``). "" on profiles made before it was kept.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    topics = models.ManyToManyField(Topic, blank=True, related_name="influencers", verbose_name=_("topics"))
    audience_description = models.TextField(_("audience"), blank=True, max_length=1000)
    tax_status = models.CharField(_("tax status"), max_length=20, choices=TaxStatus.choices, default=TaxStatus.PRIVATE)
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    terms_accepted_at = models.DateTimeField(_("terms accepted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("influencer profile")
        verbose_name_plural = _("influencer profiles")
        ordering = ("display_name",)

    def __str__(self) -> str:
        return self.display_name
