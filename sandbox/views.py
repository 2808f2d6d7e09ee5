"""Sandbox web pages: the OAuth consent page, public profiles and status pages, avatars, media."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET

from linkilike.user_files import IMAGE_EXTENSIONS, USER_FILE_CSP, user_file_headers
from sandbox import selectors, services
from sandbox.errors import ClientNotRecognised, RecordNotFound, RedirectableOAuthError, SandboxPersonaError
from sandbox.forms import ConsentForm
from sandbox.services import OOB_REDIRECT_URI, AuthorizationRequest

SCOPE_DESCRIPTIONS = {
    "read": _("Read your sandbox account and posts"),
    "read:accounts": _("See your account details"),
    "read:statuses": _("Read your posts and their likes, reblogs and replies"),
    "write": _("Post, upload media and change your sandbox account"),
    "write:statuses": _("Publish and delete posts"),
    "write:media": _("Upload images"),
    "profile": _("See your profile (name, handle, followers)"),
    "follow": _("Follow and unfollow accounts"),
    "push": _("Receive notifications"),
}


class ClientRedirect(HttpResponseRedirect):
    """Apps may register custom URI schemes for their redirect (as on Mastodon)."""

    allowed_schemes = ["http", "https", "ftp"]

    def __init__(self, redirect_to: str, *args: Any, **kwargs: Any) -> None:
        scheme = urlsplit(redirect_to).scheme
        if scheme and scheme not in {"javascript", "data", "vbscript"}:
            self.allowed_schemes = [*self.allowed_schemes, scheme]
        super().__init__(redirect_to, *args, **kwargs)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v != ""]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _describe_scopes(scopes: list[str]) -> list[str]:
    described = []
    for scope in scopes:
        text = SCOPE_DESCRIPTIONS.get(scope) or SCOPE_DESCRIPTIONS.get(scope.partition(":")[0]) or scope
        described.append(str(text))
    return list(dict.fromkeys(described))


class AuthorizeView(LoginRequiredMixin, View):
    """GET /sandbox/oauth/authorize shows the consent page; POST grants or denies.

    Sandbox accounts belong to signed-in Linkilike users: the page lets the person pick one of
    their sandbox accounts or create one. Unknown apps and unregistered redirect addresses are
    explained on the page and never redirected to."""

    template_name = "sandbox/authorize.html"

    def _check(self, request: HttpRequest) -> AuthorizationRequest:
        query = request.GET
        return services.authorization_request_check(
            client_id=query.get("client_id", ""),
            redirect_uri=query.get("redirect_uri", ""),
            response_type=query.get("response_type", ""),
            scope=query.get("scope", ""),
            state=query.get("state", ""),
            code_challenge=query.get("code_challenge", ""),
            code_challenge_method=query.get("code_challenge_method", ""),
        )

    def _form(self, request: HttpRequest, data: Any = None) -> ConsentForm:
        personas = list(selectors.persona_list_for_owner(user=request.user))  # type: ignore[arg-type]
        return ConsentForm(
            data,
            personas=personas,
            suggested_handle=services.persona_suggest_handle(user=request.user),  # type: ignore[arg-type]
        )

    def _render(self, request: HttpRequest, auth: AuthorizationRequest, form: ConsentForm, status: int = 200) -> Any:
        context = {"auth": auth, "form": form, "scopes": _describe_scopes(auth.scopes)}
        return render(request, self.template_name, context, status=status)

    def _answer(self, auth: AuthorizationRequest, params: dict[str, str]) -> HttpResponse:
        if auth.redirect_uri == OOB_REDIRECT_URI:
            return render(self.request, "sandbox/authorize_oob.html", {"auth": auth, "params": params})
        return ClientRedirect(_with_query(auth.redirect_uri, {**params, "state": auth.state}))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            self.auth = self._check(request)
        except ClientNotRecognised as error:
            return render(request, "sandbox/authorize_error.html", {"error": error.description}, status=400)
        except RedirectableOAuthError as error:
            # Client and redirect address are verified, so the app learns about the problem.
            auth = AuthorizationRequest(None, error.redirect_uri, [], error.state, "", "")  # type: ignore[arg-type]
            return self._answer(auth, {"error": error.error, "error_description": error.description})
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self.auth, self._form(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("decision") == "deny":
            return self._answer(
                self.auth, {"error": "access_denied", "error_description": "The resource owner denied the request."}
            )
        form = self._form(request, request.POST)
        if not form.is_valid():
            return self._render(request, self.auth, form, status=400)
        try:
            code = services.authorization_grant(
                request=self.auth,
                user=request.user,  # type: ignore[arg-type]
                persona_id=form.persona_id,
                new_handle=form.cleaned_data.get("new_handle", ""),
            )
        except SandboxPersonaError as error:
            form.add_error("new_handle" if form.persona_id is None else "account", str(error))
            return self._render(request, self.auth, form, status=400)
        return self._answer(self.auth, {"code": code})


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sandbox/index.html",
        {
            "statuses": selectors.status_list_recent(limit=20),
            "members": selectors.persona_list_with_counts().filter(owner__isnull=False).order_by("handle")[:50],
        },
    )


@require_GET
def profile(request: HttpRequest, handle: str) -> HttpResponse:
    try:
        persona = selectors.persona_get_for_handle(handle=handle)
    except RecordNotFound as exc:
        raise Http404(_("No such sandbox account.")) from exc
    statuses = selectors.status_list_for_profile(persona=persona)
    return render(request, "sandbox/profile.html", {"persona": persona, "statuses": statuses})


@require_GET
def status_page(request: HttpRequest, handle: str, status_id: int) -> HttpResponse:
    try:
        status = selectors.status_get_for_viewer(status_id=status_id, viewer=None)
    except RecordNotFound as exc:
        raise Http404(_("This post does not exist or was deleted.")) from exc
    if status.persona.handle != handle.lower() or status.reblog_of_id is not None:
        raise Http404(_("This post does not exist or was deleted."))
    context = {
        "status": status,
        "persona": status.persona,
        "replies": selectors.reply_list_for_status(status=status),
        "reply_posts": selectors.reply_post_list_for_status(status=status),
    }
    return render(request, "sandbox/status.html", context)


AVATAR_COLOURS = ("#6d28d9", "#0f766e", "#b45309", "#be123c", "#1d4ed8", "#4d7c0f", "#7c2d12", "#0e7490")


@require_GET
def avatar(request: HttpRequest, handle: str) -> HttpResponse:
    """A generated avatar: initials on a colour picked from the handle."""
    digest = int(hashlib.sha256(handle.lower().encode()).hexdigest(), 16)
    colour = AVATAR_COLOURS[digest % len(AVATAR_COLOURS)]
    initials = escape("".join(part[0] for part in handle.split("_") if part)[:2].upper() or "?")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" rx="48" fill="{colour}"/>'
        '<text x="48" y="60" font-family="system-ui,sans-serif" font-size="38" font-weight="700" '
        f'text-anchor="middle" fill="#fff">{initials}</text></svg>'
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    # Only our markup is in it (the handle's initials, escaped); should that ever change, a page
    # opening it still runs nothing.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = USER_FILE_CSP
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def media_file(request: HttpRequest, media_id: int) -> FileResponse:
    try:
        media = selectors.media_get_public(media_id=media_id)
    except RecordNotFound as exc:
        raise Http404 from exc
    # The type sniffed at upload and a name of ours: FileResponse would guess both from the file name.
    filename = f"sandbox-media-{media.pk}.{IMAGE_EXTENSIONS[media.content_type]}"
    response = FileResponse(media.file.open("rb"), content_type=media.content_type, filename=filename)
    user_file_headers(response, filename=filename)
    response["Cache-Control"] = "public, max-age=86400"
    return response
