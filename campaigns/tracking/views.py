"""The public redirect ``/r/<code>``: bounded work, no database writes, no cookies."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from campaigns.tracking.capture import click_event_from_request
from campaigns.tracking.handoff import click_push
from campaigns.tracking.services import tracking_link_resolve


@require_http_methods(["GET", "HEAD"])
def tracking_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """302 to the share's target. The click is pushed to Redis and recorded later by the drain."""
    resolved = tracking_link_resolve(code=code)
    if resolved is None:
        raise Http404
    link_id, target = resolved
    click_push(event=click_event_from_request(request, link_id=link_id))
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = getattr(settings, "TRACKING_REFERRER_POLICY", "strict-origin-when-cross-origin")
    return response
