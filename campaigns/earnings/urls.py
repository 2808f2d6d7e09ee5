"""The Funds and earnings pages; ``linkilike.urls`` puts them in the ``payouts`` namespace (names unchanged)."""

from django.urls import path

from campaigns.earnings import views

urlpatterns = [
    path("b/<slug:brand_slug>/funds/", views.BrandFundsView.as_view(), name="funds"),
    path("b/<slug:brand_slug>/funds/top-up/", views.BrandTopUpView.as_view(), name="funds-top-up"),
    path("i/earnings/", views.InfluencerEarningsView.as_view(), name="earnings"),
    path("i/earnings/accounts/", views.PayoutDestinationAddView.as_view(), name="destination-add"),
]
