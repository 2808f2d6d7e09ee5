"""Pages that belong to no single app: the landing page, the home router, health."""

from __future__ import annotations

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from accounts.demo import DEMO_PASSWORD
from linkilike import email_previews
from linkilike.demo import demo_account_list
from linkilike.email_previews import EmailPreview
from linkilike.emails import RenderedEmail
from linkilike.health import health_check
from linkilike.workspaces import workspace_list_for_user


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    demo_accounts = demo_account_list() if settings.LINKILIKE_SHOW_DEMO_LOGINS else []
    return render(request, "landing.html", {"demo_accounts": demo_accounts, "demo_password": DEMO_PASSWORD})


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Send a signed-in person to their workspace, or let them choose when they have several."""
    if not request.user.is_authenticated:
        return redirect("landing")
    workspaces = workspace_list_for_user(user=request.user)
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


@staff_member_required
def email_preview_list(request: HttpRequest) -> HttpResponse:
    """Staff: every notification email, to open in English or German."""
    return render(
        request,
        "admin/email_previews.html",
        {
            **admin.site.each_context(request),
            "previews": email_previews.email_preview_list(),
            "languages": settings.LANGUAGES,
            "title": _("Email previews"),
        },
    )


def _preview(key: str, language: str) -> tuple[EmailPreview, RenderedEmail | None]:
    preview = email_previews.email_preview_get(key)
    if preview is None or language not in dict(settings.LANGUAGES):
        raise Http404
    return preview, preview.render(language=language)


@staff_member_required
def email_preview_detail(request: HttpRequest, key: str, language: str) -> HttpResponse:
    preview, rendered = _preview(key, language)
    return render(
        request,
        "admin/email_preview.html",
        {
            **admin.site.each_context(request),
            "preview": preview,
            "rendered": rendered,
            "language": language,
            "title": preview.label,
        },
    )


@staff_member_required
@xframe_options_sameorigin
@csp_update({"frame-ancestors": ["'self'"], "style-src": ["'unsafe-inline'"]})  # type: ignore[arg-type]
def email_preview_html(request: HttpRequest, key: str, language: str) -> HttpResponse:
    """The HTML part alone, framed by the detail page (emails carry inline styles)."""
    _preview_entry, rendered = _preview(key, language)
    if rendered is None:
        raise Http404
    return HttpResponse(rendered.html)
