"""The influencer's campaign screens under /i/. No ``app_name``: ``linkilike.urls`` includes these patterns together
with ``influencers.urls`` in the one ``influencers`` namespace, so every name stays ``influencers:...``."""

from django.urls import path

from campaigns.influencer import views_offers, views_results, views_shares

urlpatterns = [
    path("i/results/", views_results.InfluencerResultsView.as_view(), name="results"),
    path("i/results.csv", views_results.InfluencerResultsExportView.as_view(), name="results-export"),
    path("i/offers/", views_offers.OfferListView.as_view(), name="offers"),
    path("i/offers/<int:pk>/", views_offers.OfferDetailView.as_view(), name="offer-detail"),
    path("i/offers/<int:pk>/preview/", views_offers.OfferPreviewView.as_view(), name="offer-preview"),
    path("i/offers/<int:pk>/decline/", views_offers.OfferDeclineView.as_view(), name="offer-decline"),
    path("i/offers/shares/<int:pk>/caption/", views_offers.ShareCaptionResubmitView.as_view(), name="share-resubmit"),
    path("i/shares/", views_shares.ShareListView.as_view(), name="shares"),
    path("i/shares/<int:pk>/retry/", views_shares.ShareRetryView.as_view(), name="share-retry"),
    path("i/shares/<int:pk>/proof/", views_shares.ShareProofView.as_view(), name="share-proof"),
    path("i/shares/<int:pk>/post/", views_shares.SharePostView.as_view(), name="share-post"),
    path("i/shares/<int:pk>/post/image/", views_shares.SharePostImageView.as_view(), name="share-post-image"),
]
