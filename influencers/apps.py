from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InfluencersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "influencers"
    verbose_name = _("Influencers")
