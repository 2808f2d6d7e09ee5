from django.conf import settings
from django.urls import path

from brands import views

app_name = "brands"

urlpatterns = [
    path("b/new/", views.BrandCreateView.as_view(), name="create"),
    path("b/<slug:brand_slug>/", views.BrandDashboardView.as_view(), name="dashboard"),
    path("b/<slug:brand_slug>/settings/", views.BrandSettingsView.as_view(), name="settings"),
    path("b/<slug:brand_slug>/members/", views.MemberListView.as_view(), name="members"),
    path("b/<slug:brand_slug>/members/<int:pk>/role/", views.MemberRoleView.as_view(), name="member-role"),
    path("b/<slug:brand_slug>/members/<int:pk>/remove/", views.MemberRemoveView.as_view(), name="member-remove"),
    path(
        "b/<slug:brand_slug>/invitations/<int:pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("b/<slug:brand_slug>/leave/", views.BrandLeaveView.as_view(), name="leave"),
    path("invitations/<str:token>/", views.invitation_respond, name="invitation"),
]

# The demo brand's stand-in website (its demo content links here), only where the demo runs (ADR 17).
if settings.SANDBOX_ENABLED:
    urlpatterns += [path("demo/<slug:slug>/", views.demo_brand_page, name="demo-page")]
