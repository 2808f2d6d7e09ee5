"""Deploy check: the sandbox is a development and demo network (ADR 17)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def sandbox_off_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.SANDBOX_ENABLED or settings.DEBUG:
        return []
    return [
        Warning(
            "The sandbox network is on (LINKILIKE_SANDBOX_ENABLED): its simulated audience, OAuth pages and "
            "uploaded media are served by this installation.",
            hint="Turn it off in production (unset LINKILIKE_SANDBOX_ENABLED) unless this is a demo installation.",
            id="sandbox.W001",
        )
    ]
