from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.selectors import workspace_list_for_user


def workspaces(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's workspaces for the switcher, computed only if a template asks."""
    return {"workspaces": SimpleLazyObject(lambda: workspace_list_for_user(user=request.user))}  # type: ignore[arg-type]
