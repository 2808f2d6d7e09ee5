from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.ApiTokenListView.as_view(), name="api-tokens"),
    path("new/", views.ApiTokenCreateView.as_view(), name="api-token-new"),
    path("<int:token_id>/revoke/", views.ApiTokenRevokeView.as_view(), name="api-token-revoke"),
    path("revoke-all/", views.ApiTokenRevokeAllView.as_view(), name="api-tokens-revoke-all"),
]
