from django.conf import settings
from django.urls import path

from networks import views, views_bluesky, views_handle, views_meta

app_name = "networks"

urlpatterns = [
    path("networks/", views.NetworkMatrixView.as_view(), name="matrix"),
    path("i/accounts/", views.AccountListView.as_view(), name="accounts"),
    path("i/accounts/connect/mastodon/", views.MastodonConnectView.as_view(), name="connect-mastodon"),
    path("i/accounts/connect/bluesky/", views_bluesky.BlueskyConnectView.as_view(), name="connect-bluesky"),
    path("i/accounts/connect/oauth/<slug:network>/", views.OAuthNetworkConnectView.as_view(), name="connect-oauth"),
    path("i/accounts/connect/handle/<slug:network>/", views_handle.HandleConnectView.as_view(), name="connect-handle"),
    path("i/accounts/callback/", views.OAuthCallbackView.as_view(), name="oauth-callback"),
    path("i/accounts/<int:pk>/refresh/", views.AccountRefreshView.as_view(), name="account-refresh"),
    path("i/accounts/<int:pk>/disconnect/", views.AccountDisconnectView.as_view(), name="account-disconnect"),
]
if settings.SANDBOX_ENABLED:  # the demo network only where it runs (ADR 17)
    urlpatterns += [
        path("i/accounts/connect/sandbox/", views.SandboxConnectView.as_view(), name="connect-sandbox"),
    ]
urlpatterns += views_meta.urlpatterns  # Instagram, Threads, Facebook Pages (connect, Page choice)
