"""The sandbox's Mastodon client API: plain Django views with Bearer-token auth and JSON bodies.

Each view parses input, calls one service or selector and renders Mastodon-shaped JSON.
``mastodon_endpoint`` does what is common: method check, token, rate limit, scope, and turning
``SandboxApiError`` into Mastodon's ``{"error": ...}`` bodies. A method an endpoint does not have
answers like a path that does not exist (404 ``{"error": "Not Found"}``), as Rails routes do:
Mastodon has no 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from sandbox import selectors, services, services_statuses
from sandbox.errors import (
    InvalidToken,
    OAuthError,
    OutsideScopes,
    RouteNotFound,
    SandboxApiError,
    UnprocessableEntity,
)
from sandbox.models import SandboxAccessToken, SandboxStatus
from sandbox.ratelimit import rate_limit_hit
from sandbox.representations import (
    account_json,
    app_json,
    context_json,
    instance_v1_json,
    instance_v2_json,
    media_json,
    oauth_metadata_json,
    scheduled_status_json,
    status_json,
)

Endpoint = Callable[..., HttpResponse]


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _params(request: HttpRequest) -> dict[str, Any]:
    """Form, multipart, JSON body and query string, like Rails' params. Lists keep their ``[]`` key."""
    data: dict[str, Any] = {}
    for source in (request.GET, request.POST):
        for key in source:
            values = source.getlist(key)
            data[key] = values if key.endswith("[]") else values[-1]
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError as exc:
            raise SandboxApiError("Error while parsing request body", http_status=400) from exc
        if isinstance(body, dict):
            data.update(body)
    return data


def _list_param(params: dict[str, Any], name: str) -> list[str]:
    raw = params.get(f"{name}[]", params.get(name, []))
    if isinstance(raw, str | int):
        raw = [raw]
    return [str(value) for value in raw]


def _absolute(request: HttpRequest) -> Callable[[str], str]:
    return request.build_absolute_uri


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def mastodon_endpoint(
    *, methods: Sequence[str], auth: str = "required", scopes: Sequence[str] = ()
) -> Callable[[Endpoint], Endpoint]:
    """``auth``: "required" (401 without a valid token), "optional" (a token if one is sent), "none"."""

    def decorate(view: Endpoint) -> Endpoint:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            method = "GET" if request.method == "HEAD" else request.method
            if method not in methods:
                missing = RouteNotFound()
                return _error(missing.message, missing.http_status)
            token: SandboxAccessToken | None = None
            try:
                header = request.headers.get("Authorization", "")
                if auth != "none" and header:
                    kind, _sep, raw = header.partition(" ")
                    if kind.lower() != "bearer" or not raw.strip():
                        raise InvalidToken()
                    token = selectors.access_token_get_for_bearer(raw=raw.strip())
                elif auth == "required":
                    raise InvalidToken()
            except SandboxApiError as error:
                return _error(error.message, error.http_status)
            limit = rate_limit_hit(identity=f"token:{token.pk}" if token else f"ip:{_client_ip(request)}")
            response: HttpResponse
            if limit.exceeded:
                response = _error("Too many requests", 429)
            elif token is not None and scopes and not services.scope_allows(token.scope_set, scopes):
                refused = OutsideScopes()
                response = _error(refused.message, refused.http_status)
            else:
                try:
                    response = view(request, token, *args, **kwargs)
                except SandboxApiError as error:
                    response = _error(error.message, error.http_status)
            if "X-RateLimit-Limit" not in response:  # a stricter limit (media) already answered
                limit.apply_headers(response)
            return response

        return wrapper

    return decorate


# --- apps and OAuth tokens --------------------------------------------------------------------


@mastodon_endpoint(methods=["POST"], auth="none")
def apps_create(request: HttpRequest, token: None) -> HttpResponse:
    params = _params(request)
    redirect_uris = params.get("redirect_uris", params.get("redirect_uris[]", ""))
    if isinstance(redirect_uris, str):
        redirect_uris = redirect_uris.split()
    app = services.app_register(
        name=str(params.get("client_name", "")),
        redirect_uris=[str(uri) for uri in redirect_uris],
        scopes=str(params.get("scopes", "")),
        website=str(params.get("website", "") or ""),
    )
    return JsonResponse(app_json(app, with_secret=True))


def _oauth_error(error: OAuthError) -> JsonResponse:
    return JsonResponse({"error": error.error, "error_description": error.description}, status=error.http_status)


def _client_credentials(request: HttpRequest, params: dict[str, Any]) -> tuple[str, str]:
    """client_id/secret from the body, or HTTP Basic auth (both allowed by RFC 6749)."""
    import base64

    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            decoded = ":"
        client_id, _sep, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(params.get("client_id", "")), str(params.get("client_secret", ""))


@mastodon_endpoint(methods=["POST"], auth="none")
def oauth_token(request: HttpRequest, token: None) -> HttpResponse:
    params = _params(request)
    client_id, client_secret = _client_credentials(request, params)
    try:
        issued = services.access_token_exchange(
            grant_type=str(params.get("grant_type", "")),
            client_id=client_id,
            client_secret=client_secret,
            code=str(params.get("code", "")),
            redirect_uri=str(params.get("redirect_uri", "")),
            code_verifier=str(params.get("code_verifier", "")),
        )
    except OAuthError as error:
        return _oauth_error(error)
    response = JsonResponse(
        {
            "access_token": issued.raw,
            "token_type": "Bearer",
            "scope": issued.token.scopes,
            "created_at": int(issued.token.created_at.timestamp()),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@mastodon_endpoint(methods=["POST"], auth="none")
def oauth_revoke(request: HttpRequest, token: None) -> HttpResponse:
    params = _params(request)
    client_id, client_secret = _client_credentials(request, params)
    try:
        services.access_token_revoke(
            client_id=client_id, client_secret=client_secret, token=str(params.get("token", ""))
        )
    except OAuthError as error:
        return _oauth_error(error)
    return JsonResponse({})


# --- instance and accounts --------------------------------------------------------------------


@mastodon_endpoint(methods=["GET"], auth="optional")
def instance_v1(request: HttpRequest, token: SandboxAccessToken | None) -> HttpResponse:
    return JsonResponse(instance_v1_json(_absolute(request), domain=request.get_host()))


@mastodon_endpoint(methods=["GET"], auth="optional")
def instance(request: HttpRequest, token: SandboxAccessToken | None) -> HttpResponse:
    return JsonResponse(instance_v2_json(_absolute(request), domain=request.get_host()))


@mastodon_endpoint(methods=["GET"], auth="none")
def oauth_metadata(request: HttpRequest, token: None) -> HttpResponse:
    return JsonResponse(oauth_metadata_json(_absolute(request)))


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under the API: Mastodon's JSON answer for a route it has not (Rails' unmatched route,
    ``{"error": "Not Found"}``; Mastodon gives clients that do not ask for JSON its HTML error page)."""
    missing = RouteNotFound()
    return _error(missing.message, missing.http_status)


@mastodon_endpoint(methods=["GET"], scopes=("read:accounts", "profile"))
def verify_credentials(request: HttpRequest, token: SandboxAccessToken) -> HttpResponse:
    persona = selectors.persona_get_for_token(token=token)
    return JsonResponse(account_json(persona, _absolute(request), with_source=True))


# --- media ------------------------------------------------------------------------------


@mastodon_endpoint(methods=["POST"], scopes=("write:media",))
def media_create(request: HttpRequest, token: SandboxAccessToken) -> HttpResponse:
    media_limit = rate_limit_hit(
        identity=f"media:{token.persona_id}",
        limit=settings.SANDBOX_MEDIA_RATE_LIMIT,
        period=settings.SANDBOX_MEDIA_RATE_LIMIT_PERIOD_SECONDS,
    )
    if media_limit.exceeded:
        response = _error("Too many requests", 429)
        media_limit.apply_headers(response)
        return response
    params = _params(request)
    media = services.media_upload(
        persona=token.persona, upload=request.FILES.get("file"), description=str(params.get("description", ""))
    )
    body = media_json(media, _absolute(request))
    return JsonResponse(body, status=200 if body["url"] else 202)


@mastodon_endpoint(methods=["GET", "PUT"], scopes=("write:media", "read:statuses"))
def media_detail(request: HttpRequest, token: SandboxAccessToken, media_id: str) -> HttpResponse:
    media = selectors.media_get_for_persona(persona=token.persona, media_id=media_id)
    if request.method == "PUT":
        params = _params(request) if request.content_type == "application/json" else _put_params(request)
        media = services.media_describe(media=media, description=str(params.get("description", "")))
    body = media_json(media, _absolute(request))
    return JsonResponse(body, status=200 if body["url"] else 206)


def _put_params(request: HttpRequest) -> dict[str, Any]:
    from django.http import QueryDict

    return dict(QueryDict(request.body).items())


# --- statuses ---------------------------------------------------------------------------


def _moment(raw: Any) -> datetime | None:
    """``scheduled_at`` as Rails reads it; an unreadable one is refused as Mastodon refuses it."""
    if raw in (None, ""):
        return None
    try:
        parsed = parse_datetime(str(raw).strip())
    except ValueError:  # well formed, but no such moment (a 13th month)
        parsed = None
    if parsed is None:
        raise UnprocessableEntity("Record invalid")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _status_answer(request: HttpRequest, status: SandboxStatus, token: SandboxAccessToken | None) -> JsonResponse:
    viewer = token.persona if token else None
    relations = selectors.status_relations_for_viewer(viewer=viewer, statuses=[status])
    return JsonResponse(status_json(status, _absolute(request), relations))


@mastodon_endpoint(methods=["POST"], scopes=("write:statuses",))
def statuses_create(request: HttpRequest, token: SandboxAccessToken) -> HttpResponse:
    params = _params(request)
    result = services_statuses.status_post(
        persona=token.persona,
        text=str(params.get("status", "") or ""),
        media_ids=_list_param(params, "media_ids"),
        visibility=str(params.get("visibility", "") or ""),
        language=str(params.get("language", "") or ""),
        spoiler_text=str(params.get("spoiler_text", "") or ""),
        sensitive=services_statuses.parse_flag(params.get("sensitive")),
        in_reply_to_id=str(params.get("in_reply_to_id", "") or ""),
        scheduled_at=_moment(params.get("scheduled_at")),
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        application_name=token.app.name,
    )
    if isinstance(result, services_statuses.StatusScheduled):
        scheduled = selectors.scheduled_status_get_for_persona(
            persona=token.persona, scheduled_id=str(result.scheduled.pk)
        )
        return JsonResponse(scheduled_status_json(scheduled, _absolute(request)))
    status = selectors.status_get_for_viewer(status_id=result.status.pk, viewer=token.persona)
    return _status_answer(request, status, token)


@mastodon_endpoint(methods=["GET", "DELETE"], auth="optional", scopes=("read:statuses", "write:statuses"))
def status_detail(request: HttpRequest, token: SandboxAccessToken | None, status_id: str) -> HttpResponse:
    viewer = token.persona if token else None
    status = selectors.status_get_for_viewer(status_id=status_id, viewer=viewer)
    if request.method == "DELETE":
        if token is None:
            raise InvalidToken()
        if not services.scope_allows(token.scope_set, ("write:statuses",)):
            raise OutsideScopes()
        body = status_json(status, _absolute(request)) | {"text": status.text, "spoiler_text": status.spoiler_text}
        services_statuses.status_delete(persona=token.persona, status=status)
        return JsonResponse(body)
    return _status_answer(request, status, token)


@mastodon_endpoint(methods=["GET"], auth="optional", scopes=("read:statuses",))
def status_context(request: HttpRequest, token: SandboxAccessToken | None, status_id: str) -> HttpResponse:
    viewer = token.persona if token else None
    status = selectors.status_get_for_viewer(status_id=status_id, viewer=viewer)
    context = selectors.status_context_for_viewer(status=status, viewer=viewer)
    relations = selectors.status_relations_for_viewer(
        viewer=viewer, statuses=[*context.ancestors, *context.descendants]
    )
    return JsonResponse(context_json(context, _absolute(request), relations))


def _acted_on(request: HttpRequest, token: SandboxAccessToken, target: SandboxStatus) -> JsonResponse:
    """The post after a favourite or reblog change (the carried post, for a reblog), read for the acting persona."""
    status = selectors.status_get_for_viewer(status_id=target.pk, viewer=token.persona)
    return _status_answer(request, status, token)


@mastodon_endpoint(methods=["POST"], scopes=("write:favourites",))
def status_favourite(request: HttpRequest, token: SandboxAccessToken, status_id: str) -> HttpResponse:
    status = selectors.status_get_for_viewer(status_id=status_id, viewer=token.persona)
    return _acted_on(request, token, services_statuses.status_favourite(persona=token.persona, status=status))


@mastodon_endpoint(methods=["POST"], scopes=("write:favourites",))
def status_unfavourite(request: HttpRequest, token: SandboxAccessToken, status_id: str) -> HttpResponse:
    status = selectors.status_get_for_viewer(status_id=status_id, viewer=token.persona)
    return _acted_on(request, token, services_statuses.status_unfavourite(persona=token.persona, status=status))


@mastodon_endpoint(methods=["POST"], scopes=("write:statuses",))
def status_reblog(request: HttpRequest, token: SandboxAccessToken, status_id: str) -> HttpResponse:
    status = selectors.status_get_for_viewer(status_id=status_id, viewer=token.persona)
    params = _params(request)
    reblog = services_statuses.status_reblog(
        persona=token.persona, status=status, visibility=str(params.get("visibility", "") or "")
    )
    wrapper = selectors.status_get_for_viewer(status_id=reblog.pk, viewer=token.persona)
    return _status_answer(request, wrapper, token)


@mastodon_endpoint(methods=["POST"], scopes=("write:statuses",))
def status_unreblog(request: HttpRequest, token: SandboxAccessToken, status_id: str) -> HttpResponse:
    status = selectors.status_get_for_viewer(status_id=status_id, viewer=token.persona)
    return _acted_on(request, token, services_statuses.status_unreblog(persona=token.persona, status=status))


# --- scheduled statuses -------------------------------------------------------------------


@mastodon_endpoint(methods=["GET"], scopes=("read:statuses",))
def scheduled_statuses(request: HttpRequest, token: SandboxAccessToken) -> HttpResponse:
    limit = str(request.GET.get("limit", "20"))
    rows = selectors.scheduled_status_list_for_persona(
        persona=token.persona, limit=int(limit) if limit.isdigit() else 20
    )
    return JsonResponse([scheduled_status_json(row, _absolute(request)) for row in rows], safe=False)


@mastodon_endpoint(methods=["GET", "PUT", "DELETE"], scopes=("read:statuses", "write:statuses"))
def scheduled_status_detail(request: HttpRequest, token: SandboxAccessToken, scheduled_id: str) -> HttpResponse:
    scheduled = selectors.scheduled_status_get_for_persona(persona=token.persona, scheduled_id=scheduled_id)
    if request.method in {"PUT", "DELETE"} and not services.scope_allows(token.scope_set, ("write:statuses",)):
        raise OutsideScopes()
    if request.method == "DELETE":
        services_statuses.scheduled_status_cancel(scheduled=scheduled)
        return JsonResponse({})
    if request.method == "PUT":
        params = _params(request) if request.content_type == "application/json" else _put_params(request)
        moment = _moment(params.get("scheduled_at"))
        if moment is not None:
            scheduled = services_statuses.scheduled_status_reschedule(scheduled=scheduled, scheduled_at=moment)
    return JsonResponse(scheduled_status_json(scheduled, _absolute(request)))
