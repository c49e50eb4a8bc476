"""The panel's URLs plus the bench's temporary admin sites (used with override_settings(ROOT_URLCONF=...))."""

from django.urls import path

from bench.admin_sites import default_site, joined_site, proposed_site
from panel.urls import urlpatterns as panel_urlpatterns

urlpatterns = [
    path("bench-admin-default/", default_site.urls),
    path("bench-admin-joined/", joined_site.urls),
    path("bench-admin-proposed/", proposed_site.urls),
    *panel_urlpatterns,
]
