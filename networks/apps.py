from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "networks"
    verbose_name = _("Social networks")

    def ready(self) -> None:
        from networks import checks  # noqa: F401  (registers the deploy check)
