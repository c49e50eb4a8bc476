"""The sandbox mounted as panel/urls.py mounts it, plus the admin, for these tests."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("sandbox/", include("providers.sandbox.urls")),
    path("admin/", admin.site.urls),
]
