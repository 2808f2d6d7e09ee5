from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    """Cross-cutting platform infrastructure that belongs to no business app (idempotency records)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "linkilike"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from linkilike import checks  # noqa: F401 - registers the deploy check
