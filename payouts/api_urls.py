from django.urls import path

from payouts import api

urlpatterns = [
    path(
        "brands/<slug:brand_slug>/funds/checkout/",
        api.BrandTopUpViewSet.as_view({"post": "checkout"}),
        name="api-brand-funds-checkout",
    ),
    path("payouts/earnings/", api.EarningsViewSet.as_view({"get": "retrieve"}), name="api-payout-earnings"),
    path(
        "payouts/requests/",
        api.PayoutRequestViewSet.as_view({"get": "list", "post": "create"}),
        name="api-payout-requests",
    ),
]
