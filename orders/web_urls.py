"""Reseller pages: catalogue, order forms, the orders list and each order's page."""

from django.urls import path

from orders.views import web

urlpatterns = [
    path("katalog/", web.catalogue, name="catalogue"),
    path("pesan/", web.order_start, name="order_start"),
    path("pesan/<str:kind>/", web.order_new, name="order_new"),
    path("pesan/<str:kind>/bayar/", web.order_place_view, name="order_place"),
    path("pesanan/", web.order_list, name="order_list"),
    path("pesanan/harga/", web.order_price, name="order_price"),
    path("pesanan/<int:pk>/", web.order_detail, name="order_detail"),
    path("pesanan/<int:pk>/status/", web.order_status, name="order_status"),
    path("pesanan/<int:pk>/aksi/", web.order_action_view, name="order_action"),
]
