"""URL routes: the page, the API, admin, auth."""

from django.contrib import admin
from django.urls import include, path

from tradedesk import monitoring
from tradedesk.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", monitoring.healthz, name="healthz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("", include("tradedesk.web.urls")),
]
