from django.urls import path, register_converter

from sandbox import api, views


class HandleConverter:
    regex = "[A-Za-z0-9_]{1,30}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(HandleConverter, "handle")

app_name = "sandbox"

urlpatterns = [
    # Mastodon client API subset (base URL: <site>/sandbox)
    path("sandbox/api/v1/apps", api.apps_create, name="apps"),
    path("sandbox/oauth/authorize", views.AuthorizeView.as_view(), name="authorize"),
    path("sandbox/oauth/token", api.oauth_token, name="token"),
    path("sandbox/oauth/revoke", api.oauth_revoke, name="revoke"),
    path("sandbox/api/v1/instance", api.instance, name="instance-v1"),
    path("sandbox/api/v2/instance", api.instance, name="instance"),
    path("sandbox/api/v1/accounts/verify_credentials", api.verify_credentials, name="verify-credentials"),
    path("sandbox/api/v2/media", api.media_create, name="media-create"),
    path("sandbox/api/v1/media/<str:media_id>", api.media_detail, name="media-detail"),
    path("sandbox/api/v1/statuses", api.statuses_create, name="statuses"),
    path("sandbox/api/v1/statuses/<str:status_id>", api.status_detail, name="status-detail"),
    # Web pages
    path("sandbox/", views.index, name="index"),
    path("sandbox/@<handle:handle>", views.profile, name="profile"),
    path("sandbox/@<handle:handle>/<int:status_id>", views.status_page, name="status-page"),
    path("sandbox/avatars/<handle:handle>.svg", views.avatar, name="avatar"),
    path("sandbox/media/<int:media_id>", views.media_file, name="media-file"),
]
