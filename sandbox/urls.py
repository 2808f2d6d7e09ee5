from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, path, register_converter

from sandbox import api, views


class HandleConverter:
    regex = "[A-Za-z0-9_]{1,30}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(HandleConverter, "handle")

app_name = "sandbox"


def slash_optional(route: str, view: Callable[..., HttpResponseBase], name: str) -> list[URLPattern]:
    """The route with and without a trailing slash, both under ``name``: Rails routes accept both and
    clients send both (Mastodon.py asks for ``/api/v1/instance/``). ``reverse`` gives the last one, without."""
    return [path(f"{route}/", view, name=name), path(route, view, name=name)]


urlpatterns = [
    # Mastodon client API subset (base URL: <site>/sandbox)
    *slash_optional("sandbox/api/v1/apps", api.apps_create, "apps"),
    *slash_optional("sandbox/oauth/authorize", views.AuthorizeView.as_view(), "authorize"),
    *slash_optional("sandbox/oauth/token", api.oauth_token, "token"),
    *slash_optional("sandbox/oauth/revoke", api.oauth_revoke, "revoke"),
    *slash_optional("sandbox/.well-known/oauth-authorization-server", api.oauth_metadata, "oauth-metadata"),
    *slash_optional("sandbox/api/v1/instance", api.instance_v1, "instance-v1"),
    *slash_optional("sandbox/api/v2/instance", api.instance, "instance"),
    *slash_optional("sandbox/api/v1/accounts/verify_credentials", api.verify_credentials, "verify-credentials"),
    *slash_optional("sandbox/api/v2/media", api.media_create, "media-create"),
    *slash_optional("sandbox/api/v1/media/<str:media_id>", api.media_detail, "media-detail"),
    *slash_optional("sandbox/api/v1/statuses", api.statuses_create, "statuses"),
    *slash_optional("sandbox/api/v1/statuses/<str:status_id>", api.status_detail, "status-detail"),
    *slash_optional("sandbox/api/v1/statuses/<str:status_id>/context", api.status_context, "status-context"),
    *slash_optional("sandbox/api/v1/statuses/<str:status_id>/favourite", api.status_favourite, "status-favourite"),
    *slash_optional(
        "sandbox/api/v1/statuses/<str:status_id>/unfavourite", api.status_unfavourite, "status-unfavourite"
    ),
    *slash_optional("sandbox/api/v1/statuses/<str:status_id>/reblog", api.status_reblog, "status-reblog"),
    *slash_optional("sandbox/api/v1/statuses/<str:status_id>/unreblog", api.status_unreblog, "status-unreblog"),
    *slash_optional("sandbox/api/v1/scheduled_statuses", api.scheduled_statuses, "scheduled-statuses"),
    *slash_optional(
        "sandbox/api/v1/scheduled_statuses/<str:scheduled_id>", api.scheduled_status_detail, "scheduled-status-detail"
    ),
    # Every other API path: Mastodon's JSON answer for a route it does not have (see the index page).
    path("sandbox/api/<path:rest>", api.not_found, name="api-not-found"),
    # Web pages
    path("sandbox/", views.index, name="index"),
    path("sandbox/@<handle:handle>", views.profile, name="profile"),
    path("sandbox/@<handle:handle>/<int:status_id>", views.status_page, name="status-page"),
    path("sandbox/avatars/<handle:handle>.svg", views.avatar, name="avatar"),
    path("sandbox/media/<int:media_id>", views.media_file, name="media-file"),
]
