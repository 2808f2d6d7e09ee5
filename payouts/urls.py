from django.urls import path

from payouts import views

app_name = "payouts"

# The Funds and earnings pages (campaign figures too) are ``campaigns.earnings.urls``, merged into this
# namespace by ``linkilike.urls``.

urlpatterns = [
    path("i/earnings/export.csv", views.InfluencerEarningsExportView.as_view(), name="earnings-export"),
    path("payouts/webhooks/stripe/", views.stripe_webhook, name="stripe-webhook"),
    # Test mode only (404 otherwise): the stand-in for Stripe's hosted checkout page.
    path("payouts/test-checkout/<str:token>/", views.LocalCheckoutView.as_view(), name="test-checkout"),
]
