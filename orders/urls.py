from django.urls import path

from orders.views import callbacks

urlpatterns = [
    path("callbacks/<int:provider_id>/<str:token>/", callbacks.provider_callback, name="provider_callback"),
]
