"""Operators' second factor: with ADMIN_2FA on, the admin needs a TOTP code from a registered device."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(device.digits)


@pytest.fixture
def device(operator) -> TOTPDevice:
    out = StringIO()
    call_command("admin_totp", operator.username, stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("otpauth://totp/")
    return TOTPDevice.objects.get(user=operator)


def login(client, password="ops-Secret-123", token="", device=None):
    # The form lists the operator's devices once the password is right; the browser sends the chosen one.
    return client.post(
        reverse("admin:login"),
        {
            "username": "ops",
            "password": password,
            "otp_token": token,
            "next": reverse("admin:index"),
            "otp_device": device.persistent_id if device else "",
        },
    )


def test_with_2fa_a_password_alone_is_not_enough(client, settings, device):
    settings.ADMIN_2FA = True
    response = login(client)
    assert response.status_code == 200  # the form again, with an error
    assert client.get(reverse("admin:index")).status_code == 302


def test_with_2fa_a_wrong_code_is_refused(client, settings, device):
    settings.ADMIN_2FA = True
    wrong = "000000" if code_for(device) != "000000" else "111111"
    assert login(client, token=wrong, device=device).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_with_2fa_password_and_code_open_the_admin(client, settings, device):
    settings.ADMIN_2FA = True
    response = login(client, token=code_for(device), device=device)
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_with_2fa_a_session_without_verification_is_not_staff(client, settings, operator, device):
    settings.ADMIN_2FA = True
    client.force_login(operator)  # logged in, but no device verified this session
    assert client.get(reverse("admin:index")).status_code == 302


def test_without_2fa_the_password_suffices(client, settings, operator):
    settings.ADMIN_2FA = False
    assert login(client).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_production_turns_2fa_on_by_default():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **{k: v for k, v in os.environ.items() if k not in ("ADMIN_2FA", "DEBUG")},
        "DJANGO_ENV": "production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "panel.example.com",
        "FIELD_ENCRYPTION_KEY": "8bN5m0y3m1vQy4o3r0cE0Zr1H8yJQK0yR4Hh3kq7eJk=",
        "DJANGO_SETTINGS_MODULE": "panel.settings",
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.ADMIN_2FA)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True", out.stderr


def test_admin_totp_refuses_resellers_and_existing_devices(reseller, device, operator):
    with pytest.raises(CommandError, match="not an operator"):
        call_command("admin_totp", reseller.username, stdout=StringIO())
    with pytest.raises(CommandError, match="already has"):
        call_command("admin_totp", operator.username, stdout=StringIO())
    call_command("admin_totp", operator.username, "--reset", stdout=StringIO())
    assert TOTPDevice.objects.filter(user=operator).count() == 1
