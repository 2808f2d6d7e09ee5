"""The admin index with what waits for staff on top (``linkilike.selectors.staff_queue_list``).

Installed in ``linkilike/urls.py`` like the allauth login: ``admin.site.index = admin_index``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.template.response import TemplateResponse

from linkilike.selectors import staff_queue_list


def admin_index(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
    context = {"staff_queues": staff_queue_list(), **(extra_context or {})}
    return AdminSite.index(admin.site, request, extra_context=context)
