from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from linkilike.audit_actions import actions_discover
from linkilike.email_previews import email_previews_discover


class PlatformConfig(AppConfig):
    """Cross-cutting platform infrastructure that belongs to no business app (idempotency records, the audit
    trail, dead letters), and the registries the apps fill: audit actions and email previews (ADR 18)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "linkilike"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from linkilike import checks  # noqa: F401 - registers the deploy check
        from linkilike.lookups import AnyOf

        # ``field__any=values``: one array parameter for many values (relations keep lookups of their own).
        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)

        # Every app's ``audit`` and ``email_previews`` module registers its entries when imported.
        actions_discover()
        email_previews_discover()
