"""The influencer's own pages under /i/ (home, profile). No ``app_name``: ``linkilike.urls`` includes these patterns
together with the campaign screens (``campaigns.influencer.urls``) in the one ``influencers`` namespace."""

from django.urls import path

from influencers import views

urlpatterns = [
    path("i/", views.InfluencerHomeView.as_view(), name="home"),
    path("i/profile/", views.InfluencerOnboardingView.as_view(), name="onboarding"),
]
