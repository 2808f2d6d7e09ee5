from django.urls import path

from campaigns import views, views_captions, views_publishing, views_results

app_name = "campaigns"

_base = "b/<slug:brand_slug>/campaigns/"

urlpatterns = [
    path("b/<slug:brand_slug>/shares/<int:pk>/retry/", views_publishing.ShareRetryView.as_view(), name="share-retry"),
    path(_base, views.CampaignListView.as_view(), name="list"),
    path(f"{_base}new/", views.CampaignCreateView.as_view(), name="create"),
    path(f"{_base}<int:pk>/", views.CampaignDetailView.as_view(), name="detail"),
    path(f"{_base}<int:pk>/edit/", views.CampaignUpdateView.as_view(), name="edit"),
    path(f"{_base}<int:pk>/submit/", views.CampaignSubmitView.as_view(), name="submit"),
    path(f"{_base}<int:pk>/withdraw/", views.CampaignWithdrawView.as_view(), name="withdraw"),
    path(f"{_base}<int:pk>/pause/", views.CampaignPauseView.as_view(), name="pause"),
    path(f"{_base}<int:pk>/resume/", views.CampaignResumeView.as_view(), name="resume"),
    path(f"{_base}<int:pk>/complete/", views.CampaignCompleteView.as_view(), name="complete"),
    path(f"{_base}<int:pk>/cancel/", views.CampaignCancelView.as_view(), name="cancel"),
    path(f"{_base}<int:pk>/duplicate/", views.CampaignDuplicateView.as_view(), name="duplicate"),
    path(f"{_base}<int:pk>/archive/", views.CampaignArchiveView.as_view(), name="archive"),
    path(f"{_base}<int:pk>/results.csv", views_results.CampaignResultsExportView.as_view(), name="results-export"),
    path(f"{_base}<int:pk>/emv-prices/", views_results.CampaignEmvPricesView.as_view(), name="emv-prices"),
    path(f"{_base}<int:pk>/content/new/", views.ContentCreateView.as_view(), name="content-create"),
    path("b/<slug:brand_slug>/content/<int:pk>/edit/", views.ContentUpdateView.as_view(), name="content-edit"),
    path("b/<slug:brand_slug>/content/<int:pk>/delete/", views.ContentDeleteView.as_view(), name="content-delete"),
    path(f"{_base}<int:pk>/captions/", views_captions.CaptionListView.as_view(), name="captions"),
    path(
        "b/<slug:brand_slug>/captions/<int:pk>/approve/",
        views_captions.CaptionApproveView.as_view(),
        name="caption-approve",
    ),
    path(
        "b/<slug:brand_slug>/captions/<int:pk>/changes/",
        views_captions.CaptionChangesView.as_view(),
        name="caption-changes",
    ),
]
