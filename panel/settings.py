"""Panel settings: everything comes from the environment (django-environ, optional `.env`).

Defaults make a fresh checkout run (SQLite under var/, ORM broker, DEBUG off). `DJANGO_ENV=production`
turns on the hardened profile and refuses to start without real secrets.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

_DEV_SECRET = "django-insecure-dev-only-" + "x" * 40
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)
DEBUG = env.bool("DEBUG", default=False)

if PRODUCTION:
    if SECRET_KEY == _DEV_SECRET or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs a real SECRET_KEY (50+ random characters, not the dev default)."
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ENV=production needs ALLOWED_HOSTS.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Absolute base of this panel as upstreams and resellers' clients reach it (callback URLs, API docs).
PANEL_PUBLIC_URL = env.str("PANEL_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# The upstream simulator under /sandbox/: never reachable in production unless asked for explicitly.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)

# Key for provider credentials at rest (Fernet, 32 url-safe base64 bytes). Dev derives one from SECRET_KEY.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs FIELD_ENCRYPTION_KEY "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()

INSTALLED_APPS = [
    "panel.admin_app.PanelAdminConfig",  # django.contrib.admin with the operators' second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",  # django-csp 4.x asks for it: registers its system checks (old-style or unsafe CSP settings)
    "accounts",
    "providers",
    "providers.sandbox",
    "orders",
    "panel",
    "tooling",  # the demo and the demo-data seeder (top layer: nothing imports it)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "panel.middleware.LanguageMiddleware",  # Indonesian first: the user's choice (cookie), never Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "panel.middleware.HardeningMiddleware",  # Permissions-Policy, session lifetimes, no key in login `next=`
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy header (policy under "# --- Security ---")
    # Last, as django-axes asks: it turns a lockout raised by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "panel.urls"
WSGI_APPLICATION = "panel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'panel.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "panel.sqlite"  # Django's backend + SQLite's real parameter limit
    # Web + worker share one file: WAL lets readers run beside the writer, IMMEDIATE takes the write
    # lock at BEGIN (no deadlock-prone lock upgrades), and the busy timeout makes writers queue.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    )
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A connection pool per process (psycopg_pool, Django 5.1+) where asked: deploy/gunicorn.conf.py sets
    # it to the worker's thread count. Not in qcluster, whose forked workers must not inherit a pool.
    DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0)
    if DB_POOL_MAX_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Operators' second factor (TOTP) for the admin; on by default in production.
ADMIN_2FA = env.bool("ADMIN_2FA", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Panel Reseller")

# Login throttling: 5 failures from one IP for one username lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Counted per client address as accounts.network reads it (X-Forwarded-For only from TRUSTED_PROXIES), so
# an attacker's failures lock out the attacker's address for that username, never a reseller elsewhere.
AXES_CLIENT_IP_CALLABLE = "accounts.network.client_address"
# The TLS proxy (or load balancer) in front: only requests from these addresses may name the client's
# address in X-Forwarded-For. Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network") from None

# --- I18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "id"
# gettext_noop, as in Django's global settings: get_available_languages translates the names itself (a lazy
# name would be translated twice, and the Indonesian name looked up again as a msgid).
LANGUAGES = [("id", gettext_noop("Indonesian")), ("en", gettext_noop("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Indonesian first (panel.middleware.LanguageMiddleware): the browser's Accept-Language is not consulted; the
# language switch's choice is kept in this cookie for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the finders, so `make demo` needs no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Cache (API rate limits) and background work (django-q2) --------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "panel"}
    )
}
Q_CLUSTER: dict = {
    "name": env.str("Q_CLUSTER_NAME", default="panel"),  # separate queues per deployment (and per test run)
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=90),
    "retry": env.int("Q_TIMEOUT", default=90) * 2,  # must exceed timeout, or a slow task is handed out twice
    "max_attempts": 3,
    "queue_limit": 50,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Django Q",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# --- Panel behaviour ------------------------------------------------------------------------------
OTP_EXPIRY_MINUTES = env.int("OTP_EXPIRY_MINUTES", default=20)
# An active order not updated for this long is asked about when its page or an API client polls it (at most
# once per this many seconds per order, whoever polls); the worker's tick refreshes every active order anyway.
ORDER_REFRESH_STALE_SECONDS = env.int("ORDER_REFRESH_STALE_SECONDS", default=5)
PROVIDER_CONNECT_TIMEOUT = env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0)
PROVIDER_READ_TIMEOUT = env.float("PROVIDER_READ_TIMEOUT", default=25.0)
# Per provider, per process (providers/adapters/guard.py): calls in flight at once, and the circuit breaker.
PROVIDER_MAX_IN_FLIGHT = env.int("PROVIDER_MAX_IN_FLIGHT", default=4)
PROVIDER_BREAKER_FAILURES = env.int("PROVIDER_BREAKER_FAILURES", default=5)
PROVIDER_BREAKER_RESET_SECONDS = env.int("PROVIDER_BREAKER_RESET_SECONDS", default=30)
# Warn operators this many days before an upstream balance's expiry date (RajaSMS `Expired`) passes.
PROVIDER_BALANCE_EXPIRY_WARN_DAYS = env.int("PROVIDER_BALANCE_EXPIRY_WARN_DAYS", default=7)
# The submitter (orders/submitter.py): orders sent at once per provider, and how long one run may last.
SUBMIT_CONCURRENCY = env.int("SUBMIT_CONCURRENCY", default=16)
# An accepted order the provider cannot be asked about (breaker open) this long is failed and refunded.
SUBMIT_GIVE_UP_MINUTES = env.int("SUBMIT_GIVE_UP_MINUTES", default=15)

# Reseller API (orders/api/common.py): requests per key, and wrong keys per client address, per window.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=120)
API_RATE_WINDOW = env.int("API_RATE_WINDOW", default=60)
API_AUTH_FAILURE_LIMIT = env.int("API_AUTH_FAILURE_LIMIT", default=30)
# Idempotency-Key (orders/api/idempotency.py): how long a first reply is kept, and how long a concurrent retry
# waits for the first request with its key to finish.
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
IDEMPOTENCY_WAIT_SECONDS = env.int("IDEMPOTENCY_WAIT_SECONDS", default=10)

# --- Security -------------------------------------------------------------------------------------
# Content-Security-Policy (django-csp 4.x) on every response: scripts, styles, fonts and fetches from this
# origin only. No 'unsafe-inline' and no 'unsafe-eval': templates carry no inline script or style elements, no
# style="..." and no on...= handlers (tests/web/test_csp.py scans them; the browser tests fail on any
# violation Chromium reports). Images may also be data: URIs (no script can run from an image).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SESSION_COOKIE_HTTPONLY = True
# A web session ends after SESSION_IDLE_MINUTES without a request or SESSION_LIFETIME_HOURS after login
# (panel/middleware.py), whichever comes first; the cookie lives no longer than the second.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=60)
SESSION_LIFETIME_HOURS = env.int("SESSION_LIFETIME_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_LIFETIME_HOURS * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    if env.bool("BEHIND_TLS_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "panel.logging.MaskSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # runserver's access log prints query strings (VirtuSIM-style ?api_key=...): route it through the mask.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
