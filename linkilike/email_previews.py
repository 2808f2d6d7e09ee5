"""Staff previews of every notification email, rendered from the newest real example in the database.

Each app registers the emails it sends in its own ``<app>/email_previews.py`` (ADR 18: the core lists
nothing of the apps); ``PlatformConfig.ready`` imports those modules, as the admin finds ``admin``
modules. An entry uses the same context function as the task that sends the email, so a preview shows
exactly what a recipient gets, in English and German, as HTML and as plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules

from linkilike.emails import RenderedEmail, email_render


@dataclass(frozen=True)
class EmailPreview:
    key: str
    label: Promise
    template: str
    #: builds the context as the sending task does, for the recipient's language (None: no example yet)
    context: Callable[[str], dict[str, Any] | None]

    def render(self, *, language: str) -> RenderedEmail | None:
        context = self.context(language)
        if context is None:
            return None
        return email_render(template=self.template, context=context, language=language)


_registry: dict[str, EmailPreview] = {}


def email_preview_register(*previews: EmailPreview) -> None:
    """Adds an app's previews; a key is registered once (registering the same preview again is harmless)."""
    for preview in previews:
        existing = _registry.get(preview.key)
        if existing is not None and existing != preview:
            raise ImproperlyConfigured(f"email preview {preview.key!r} is registered twice ({preview.template})")
        _registry[preview.key] = preview


def email_preview_list() -> list[EmailPreview]:
    return list(_registry.values())


def email_preview_get(key: str) -> EmailPreview | None:
    return _registry.get(key)


def email_previews_discover() -> None:
    """Imports ``<app>.email_previews`` of every installed app that has one (they register on import)."""
    autodiscover_modules("email_previews")
