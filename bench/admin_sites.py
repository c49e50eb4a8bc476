"""The changelist benchmark's baseline admin site (never the real admin's registry).

`default_site` ("benchdefault"): Django's default changelist for orders: the same columns, filters, search
and joins as orders.admin.OrderAdmin, with Django's defaults for counting (show_full_result_count=True, the
default Paginator and its COUNT).
"""

from __future__ import annotations

from django.contrib import admin

from orders.admin import OrderAdmin
from orders.models import Order


class DefaultOrderAdmin(admin.ModelAdmin):
    list_display = OrderAdmin.list_display
    list_filter = OrderAdmin.list_filter
    search_fields = OrderAdmin.search_fields
    list_select_related = OrderAdmin.list_select_related
    raw_id_fields = OrderAdmin.raw_id_fields
    date_hierarchy = OrderAdmin.date_hierarchy
    show_full_result_count = True  # Django's default

    def get_urls(self):
        """Plus OrderAdmin's report URLs: the shared admin/orders/order/change_list.html links to them."""
        reports = [p for p in OrderAdmin(Order, self.admin_site).get_urls() if (p.name or "").startswith("reports_")]
        return [*reports, *super().get_urls()]


default_site = admin.AdminSite(name="benchdefault")
default_site.register(Order, DefaultOrderAdmin)
