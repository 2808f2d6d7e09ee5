from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sandbox"
    verbose_name = _("Sandbox network")

    def ready(self) -> None:
        from sandbox import checks  # noqa: F401 - registers the deploy check
