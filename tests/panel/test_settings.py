"""Settings come from the environment; production mode is strict and `check --deploy` clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "Zq9!x7@Lm#2vB$8nR%4tY^6wE&1uI*3oP(5aS)0dF"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "DEBUG"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production_env(**extra: str) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "panel.example.com",
        "FIELD_ENCRYPTION_KEY": "8bN5m0y3m1vQy4o3r0cE0Zr1H8yJQK0yR4Hh3kq7eJk=",
        **extra,
    }


def test_production_check_deploy_has_zero_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "real SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "real SECRET_KEY"),
        ({"FIELD_ENCRYPTION_KEY": ""}, "FIELD_ENCRYPTION_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "1"}, "DEBUG must be off"),
    ],
)
def test_production_refuses_to_start_without_real_settings(override, message):
    env = production_env(**override)
    if override.get("SECRET_KEY") == "":
        env.pop("SECRET_KEY")
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_defaults_are_safe_and_local():
    assert settings.DEBUG is False
    assert settings.TIME_ZONE == "Asia/Jakarta"
    assert settings.LANGUAGE_CODE == "id"
    assert [code for code, _ in settings.LANGUAGES] == ["id", "en"]
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE


def test_sqlite_is_configured_for_concurrent_use():
    if settings.DATABASES["default"]["ENGINE"] != "panel.sqlite":
        pytest.skip("running on PostgreSQL")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


def test_sqlite_file_database_really_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor();"
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); c.execute('PRAGMA busy_timeout');"
        "print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", DJANGO_SETTINGS_MODULE="panel.settings")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["wal", "20000"], out.stderr


@pytest.mark.parametrize(("redis_url", "broker_key"), [("", "orm"), ("redis://127.0.0.1:6379/3", "redis")])
def test_redis_url_selects_the_broker(redis_url, broker_key):
    code = "import django; django.setup(); from django.conf import settings as s; print(sorted(s.Q_CLUSTER))"
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "panel.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    keys = out.stdout
    assert f"'{broker_key}'" in keys, out.stderr
    assert ("'orm'" in keys) != ("'redis'" in keys)
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
