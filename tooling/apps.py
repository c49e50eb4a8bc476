from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ToolingConfig(AppConfig):
    """The demo, the demo-data seeder and benchmark helpers: the top layer. It may use accounts, providers,
    orders and panel; none of them imports it (production code never depends on demo or simulator code)."""

    name = "tooling"
    verbose_name = _("Tooling")
