from django.urls import include, path
from rest_framework.routers import SimpleRouter

from campaigns import api
from campaigns.tracking.api import CampaignResultsViewSet

campaign_router = SimpleRouter()
campaign_router.register("campaigns", api.CampaignViewSet, basename="brand-campaigns")
content_router = SimpleRouter()
content_router.register("content", api.ContentViewSet, basename="brand-campaign-content")

urlpatterns = [
    path("brands/<slug:brand_slug>/", include(campaign_router.urls)),
    path("brands/<slug:brand_slug>/campaigns/<int:campaign_pk>/", include(content_router.urls)),
    path(
        "brands/<slug:brand_slug>/campaigns/<int:pk>/results/",
        CampaignResultsViewSet.as_view({"get": "retrieve"}),
        name="brand-campaign-results",
    ),
]
