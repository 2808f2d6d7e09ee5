from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from campaigns.earnings import urls as campaigns_earnings_urls
from campaigns.influencer import urls as campaigns_influencer_urls
from campaigns.tracking import views as tracking_views
from influencers import urls as influencers_urls
from linkilike import admin_index, admin_login, user_files, views
from payouts import urls as payouts_urls

admin.site.site_header = _("Linkilike administration")
admin.site.site_title = _("Linkilike admin")
admin.site.index_title = _("Platform administration")
admin.site.login = admin_login.admin_login  # type: ignore[method-assign]
admin.site.index = admin_index.admin_index  # type: ignore[method-assign]  # what waits for staff, on top

# Under /api/ a path no route matches answers JSON, as the schema documents (linkilike/http_errors.py).
handler404 = "linkilike.http_errors.page_not_found"

api_urlpatterns = [
    path("", include("brands.api_urls")),
    path("", include("campaigns.api_urls")),
    path("", include("influencers.api_urls")),
    path("", include("payouts.api_urls")),
    path("", include("campaigns.earnings.api_urls")),
    path("", include("networks.api_urls")),
]

# The influencer's pages under /i/: their own (home, profile) and the campaign screens (offers, shares, results),
# one ``influencers`` namespace so every name stays ``influencers:...``.
influencer_urlpatterns = [*influencers_urls.urlpatterns, *campaigns_influencer_urls.urlpatterns]

# The money pages: payouts' own and the Funds and earnings pages that show campaign figures too, one ``payouts``
# namespace so every name stays ``payouts:...``.
money_urlpatterns = [*payouts_urls.urlpatterns, *campaigns_earnings_urls.urlpatterns]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("r/<str:code>", tracking_views.tracking_redirect, name="tracking-redirect"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/tokens/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/emails/", views.email_preview_list, name="email-previews"),
    path("admin/emails/<slug:key>/<str:language>/", views.email_preview_detail, name="email-preview"),
    path("admin/emails/<slug:key>/<str:language>/html/", views.email_preview_html, name="email-preview-html"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc set inline styles on their widgets; scripts stay 'self' only.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("", include("brands.urls")),
    path("", include((influencer_urlpatterns, "influencers"))),
    path("", include("campaigns.urls")),
    path("", include((money_urlpatterns, "payouts"))),
    path("", include("networks.urls")),
]

# The demo network lives only where it is turned on (development, demos; ADR 17): in production its
# URLs do not exist at all.
if settings.SANDBOX_ENABLED:
    urlpatterns += [path("", include("sandbox.urls"))]

if settings.DEBUG:
    # Uploads are served typed by our own names, with nosniff and a sandboxing CSP (linkilike.user_files).
    urlpatterns += [path("media/<path:path>", user_files.media_serve, name="media")]
