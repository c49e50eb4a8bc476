from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", include("orders.urls")),  # inbound provider callbacks
    path("", include("orders.api.urls")),  # downstream protocols: /api/json.php, /api/v2, /api/prepaid, /sms/...
    path("", include("orders.web_urls")),  # reseller pages: catalogue, order forms, orders
    path("", include("orders.report_urls")),  # CSV downloads
    path("sandbox/", include("providers.sandbox.urls")),
]
