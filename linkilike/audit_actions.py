"""The audit actions, registered by the apps that record them (ADR 18).

The platform core knows no app's events: each app lists its actions in its own ``<app>/audit.py`` as a
``TextChoices`` class and registers it here with the category it belongs to::

    class PayoutAuditAction(models.TextChoices):
        PAYOUT_SENT = "payout.sent", _("Payout sent")

    audit_actions.register("payouts", PayoutAuditAction, category=AuditCategory.MONEY)

``PlatformConfig.ready`` imports every installed app's ``audit`` module (as the admin finds ``admin``
modules), so the registry is complete before the first request, task or system check. ``audit_record``
refuses an action nobody registered; the ``AuditEvent.action`` field takes its choices from here when
they are read (a callable, so a new action needs no migration), which keeps the admin's filter and the
action's translated label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: ``AuditEvent.action``'s column width; a longer action is refused when it is registered.
ACTION_MAX_LENGTH = 64


class AuditCategory(models.TextChoices):
    MODERATION = "moderation", _("Moderation")
    MONEY = "money", _("Money")
    PERMISSION = "permission", _("Permissions")


class UnknownAuditAction(ValueError):
    """An action no app registered: a programming error, never shown to a person."""


@dataclass(frozen=True)
class AuditActionInfo:
    app_label: str
    value: str
    label: StrOrPromise
    category: str


_registry: dict[str, AuditActionInfo] = {}


def register(app_label: str, actions: type[models.TextChoices], *, category: AuditCategory) -> None:
    """Adds an app's actions. The prefix before the first dot of each value names the object kind."""
    if category not in AuditCategory.values:
        raise ImproperlyConfigured(f"{app_label}: unknown audit category {category!r}")
    for member in actions:
        value = str(member.value)
        if len(value) > ACTION_MAX_LENGTH:
            raise ImproperlyConfigured(f"{app_label}: audit action {value!r} is longer than {ACTION_MAX_LENGTH}")
        existing = _registry.get(value)
        if existing is not None and (existing.app_label, existing.category) != (app_label, str(category)):
            raise ImproperlyConfigured(f"{app_label}: audit action {value!r} is already registered by {existing}")
        _registry[value] = AuditActionInfo(app_label=app_label, value=value, label=member.label, category=category)


def action_get(action: str) -> AuditActionInfo:
    try:
        return _registry[action]
    except KeyError:
        raise UnknownAuditAction(f"unknown audit action {action!r}: register it in its app's audit.py") from None


def action_list() -> list[AuditActionInfo]:
    return list(_registry.values())


def action_choices() -> list[tuple[str, StrOrPromise]]:
    """``AuditEvent.action``'s choices (read lazily, so the admin filter lists every registered action)."""
    return [(info.value, info.label) for info in _registry.values()]


def actions_discover() -> None:
    """Imports ``<app>.audit`` of every installed app that has one (they register on import)."""
    autodiscover_modules("audit")
