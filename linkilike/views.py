"""Pages that belong to no single app: the landing page, the home router, health."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.selectors import workspace_list_for_user
from linkilike.demo import DEMO_PASSWORD, demo_account_list
from linkilike.health import health_check


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    demo_accounts = demo_account_list() if settings.LINKILIKE_SHOW_DEMO_LOGINS else []
    return render(request, "landing.html", {"demo_accounts": demo_accounts, "demo_password": DEMO_PASSWORD})


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Send a signed-in person to their workspace, or let them choose when they have several."""
    if not request.user.is_authenticated:
        return redirect("landing")
    workspaces = workspace_list_for_user(user=request.user)  # type: ignore[arg-type]
    if len(workspaces) == 1:
        return redirect(workspaces[0].url)
    return render(request, "accounts/home.html", {"workspaces": workspaces})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_check()
    return JsonResponse(
        {
            "ok": report.ok,
            "database": report.database,
            "cache": report.cache,
            "worker": report.worker,
            "last_worker_heartbeat": report.last_worker_heartbeat.isoformat() if report.last_worker_heartbeat else None,
        },
        status=200 if report.ok else 503,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
