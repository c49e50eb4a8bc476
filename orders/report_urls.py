"""Reseller CSV downloads (operators' downloads live in the admin: see OrderAdmin.get_urls)."""

from django.urls import path

from orders.views import reports

urlpatterns = [
    path("pesanan/csv/", reports.orders_csv, name="orders_csv"),
    path("saldo/csv/", reports.ledger_csv, name="ledger_csv"),
]
