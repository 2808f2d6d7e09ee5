from django.urls import path

from influencers import views

app_name = "influencers"

urlpatterns = [
    path("i/", views.InfluencerHomeView.as_view(), name="home"),
    path("i/profile/", views.InfluencerOnboardingView.as_view(), name="onboarding"),
]
