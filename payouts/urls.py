from django.urls import path

from payouts import views

app_name = "payouts"

urlpatterns = [
    path("b/<slug:brand_slug>/funds/", views.BrandFundsView.as_view(), name="funds"),
    path("b/<slug:brand_slug>/funds/top-up/", views.BrandTopUpView.as_view(), name="funds-top-up"),
    path("i/earnings/", views.InfluencerEarningsView.as_view(), name="earnings"),
    path("i/earnings/accounts/", views.PayoutDestinationAddView.as_view(), name="destination-add"),
    path("i/earnings/export.csv", views.InfluencerEarningsExportView.as_view(), name="earnings-export"),
    path("payouts/webhooks/stripe/", views.stripe_webhook, name="stripe-webhook"),
    # Test mode only (404 otherwise): the stand-in for Stripe's hosted checkout page.
    path("payouts/test-checkout/<str:token>/", views.LocalCheckoutView.as_view(), name="test-checkout"),
]
