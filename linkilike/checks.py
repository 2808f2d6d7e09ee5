"""Deploy check: uploads must be stored where production serves them (docs/SCALING.md §7)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.files, deploy=True)
def media_served_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = settings.STORAGES["default"]["BACKEND"]
    if settings.DEBUG or not backend.endswith("FileSystemStorage"):
        return []
    return [
        Warning(
            "Uploads are stored on this machine's file system, and nothing serves /media/ in production: "
            "thumbnails break and Instagram and Threads cannot fetch images.",
            hint="Set LINKILIKE_MEDIA_S3_BUCKET (and the other LINKILIKE_MEDIA_S3_* variables in .env.example) "
            "to store them on an S3-compatible object store.",
            id="linkilike.W001",
        )
    ]
