from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    # Not "Accounts": django-allauth's email addresses already have an admin section by that name.
    verbose_name = _("Users and API tokens")

    def ready(self) -> None:
        from accounts import audit  # noqa: F401  (connects the MFA audit receivers)
