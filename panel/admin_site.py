"""The admin site, with an optional TOTP second factor for operators (django-otp).

With ADMIN_2FA on (production's default), the admin login asks for a code from the operator's
authenticator app and only sessions verified by a TOTP device count as staff. Operators get a device
with `manage.py admin_totp USERNAME`. Checked per request, so the setting can be flipped in tests.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm

# Django's Indonesian message names the username field twice ("nama pengguna nama pengguna"): ours once.
WRONG_STAFF_LOGIN = _("Wrong username or password for an operator account. Capital and small letters count.")


class PanelAdminLoginForm(AdminAuthenticationForm):
    error_messages = {**AdminAuthenticationForm.error_messages, "invalid_login": WRONG_STAFF_LOGIN}


class PanelOtpAdminLoginForm(OTPAdminAuthenticationForm):
    error_messages = {**OTPAdminAuthenticationForm.error_messages, "invalid_login": WRONG_STAFF_LOGIN}


class PanelAdminSite(AdminSite):
    site_header = _("Reseller panel — operators")
    site_title = _("Reseller panel")
    index_title = _("Operations")

    @property
    def login_form(self):  # type: ignore[override]
        return PanelOtpAdminLoginForm if settings.ADMIN_2FA else PanelAdminLoginForm

    @property
    def login_template(self):  # type: ignore[override]
        return "otp/admin111/login.html" if settings.ADMIN_2FA else None

    def _build_app_dict(self, request: HttpRequest, label: str | None = None) -> dict:
        """The index and sidebar names of third-party apps and models that never marked them for translation
        (django-q2's "Django Q", django-otp's "Otp_Totp" and "TOTP devices") go through our catalogue."""
        app_dict = super()._build_app_dict(request, label)
        for app in app_dict.values():
            if not isinstance(app["name"], Promise):
                app["name"] = gettext(app["name"])
            for model in app["models"]:
                if not isinstance(model["model"]._meta.verbose_name, Promise):  # the plural derives from it
                    model["name"] = gettext(model["name"])
        return app_dict

    def has_permission(self, request: HttpRequest) -> bool:
        allowed = super().has_permission(request)
        if allowed and settings.ADMIN_2FA:
            return request.user.is_verified()
        return allowed
