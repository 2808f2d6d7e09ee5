from django.urls import path

from campaigns.earnings import api

urlpatterns = [
    path(
        "brands/<slug:brand_slug>/funds/",
        api.BrandFundsViewSet.as_view({"get": "retrieve"}),
        name="api-brand-funds",
    ),
]
