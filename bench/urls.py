"""The panel's URLs plus the bench's baseline admin site (used with override_settings(ROOT_URLCONF=...))."""

from django.urls import path

from bench.admin_sites import default_site
from panel.urls import urlpatterns as panel_urlpatterns

urlpatterns = [
    path("bench-admin-default/", default_site.urls),
    *panel_urlpatterns,
]
