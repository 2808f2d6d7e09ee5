from django.urls import include, path
from rest_framework.routers import SimpleRouter

from brands import api

brand_router = SimpleRouter()
brand_router.register("members", api.MembershipViewSet, basename="brand-members")
brand_router.register("invitations", api.InvitationViewSet, basename="brand-invitations")

urlpatterns = [
    path("brands/", api.BrandListCreateViewSet.as_view({"get": "list", "post": "create"}), name="api-brand-list"),
    path(
        "brands/<slug:brand_slug>/",
        api.BrandDetailViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-brand-detail",
    ),
    path("brands/<slug:brand_slug>/", include(brand_router.urls)),
]
