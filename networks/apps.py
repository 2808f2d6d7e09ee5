import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "networks"
    verbose_name = _("Social networks")

    def ready(self) -> None:
        # Imported once the app registry is ready (start-up order), not to dodge a cycle.
        from networks import checks  # noqa: F401  (registers the deploy check)
        from networks.providers.http import private_instances_allowed

        if private_instances_allowed():
            # Development and tests talk OAuth to local doubles over plain http; everywhere else oauthlib keeps
            # refusing consent pages and token endpoints that are not https.
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
