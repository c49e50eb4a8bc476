from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    # reseller pages
    path("saldo/", views.balance, name="balance"),
    path("deposit/", views.deposit, name="deposit"),
    path("api/", views.api_key, name="api_key"),
    path("api/kunci-baru/", views.api_key_rotate, name="api_key_rotate"),
    path("api/ip/", views.api_key_ips, name="api_key_ips"),
    path("api/laporan-masking/", views.api_masking_callback, name="api_masking_callback"),
]
