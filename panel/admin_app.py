"""App config for django.contrib.admin with our site. Kept apart from panel.admin_site: INSTALLED_APPS
imports this module before models are ready, and the site module imports forms that need them."""

from django.contrib.admin.apps import AdminConfig


class PanelAdminConfig(AdminConfig):
    default_site = "panel.admin_site.PanelAdminSite"
