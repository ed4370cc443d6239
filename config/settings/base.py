"""Settings shared by every environment. Everything that differs comes from the environment."""

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_seconds, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SPECGATE_ENV = "base"
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks_db",
    "config",  # project plumbing: the run_worker command
    "accounts",
    "audit",
    "checklists",
    "reviews",
    "webhooks",
]

MIDDLEWARE = [
    "config.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside every middleware that reads the database: an outage answers 503 (config/outage.py).
    "config.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "reviews.middleware.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.input_guard.RefuseNulMiddleware",  # innermost: its 400 gets the headers above
]

# A database outage answers 503 with this Retry-After (seconds).
SPECGATE_OUTAGE_RETRY_AFTER = env_int("SPECGATE_OUTAGE_RETRY_AFTER", 5)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Database: the embedded default is a SQLite file in the project folder.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'specgate.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: allauth's rate limits need a real cache. Redis in production (CACHE_URL=redis://…),
# a per-process memory cache otherwise.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "specgate",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "specgate",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# allauth: sign in by e-mail, verification, TOTP MFA with recovery codes, rate limits on.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"  # asks for a name
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# What e-mails call the site, and the address their links use (default: the host that served the
# request that sent them).
SPECGATE_SITE_NAME = env_str("SPECGATE_SITE_NAME", "Specgate")
SPECGATE_BASE_URL = env_str("SPECGATE_BASE_URL", "")
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/key,20/5m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Specgate"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# E-mail (Django's MAILERS). EMAIL_BACKEND picks the backend; the SMTP options apply to SMTP.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def build_mailers(backend: str) -> dict:
    options = {}
    if backend == SMTP_BACKEND:
        options = {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "timeout": env_int("EMAIL_TIMEOUT", 10),
        }
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = build_mailers(env_str("EMAIL_BACKEND", SMTP_BACKEND))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Specgate <specgate@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (Django's tasks framework, database-backed worker: manage.py run_worker,
# which outlives a database outage — config/worker.py — and serves every queue below by
# default). Webhook deliveries have their own queue, so a slow receiver never holds up e-mails.
TASK_QUEUES = ["default", "webhooks"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}

# Webhooks. URLs whose host resolves to an internal address (loopback, private, link-local, …)
# are refused unless the host is named here (on-premises receivers), comma-separated.
SPECGATE_WEBHOOK_ALLOWED_HOSTS = env_list("SPECGATE_WEBHOOK_ALLOWED_HOSTS", [])
# Seconds to connect to a receiver, and for it to answer once connected.
SPECGATE_WEBHOOK_CONNECT_TIMEOUT = env_seconds("SPECGATE_WEBHOOK_CONNECT_TIMEOUT", 3.0)
SPECGATE_WEBHOOK_READ_TIMEOUT = env_seconds("SPECGATE_WEBHOOK_READ_TIMEOUT", 5.0)

# Content Security Policy: no inline scripts; the page script is our own static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.common.TokenScopePermission",  # read-only tokens cannot write
    ],
    # The API reads JSON bodies only (the checklist import adds multipart and text/markdown):
    # DRF's form parsers read an empty field as null and a missing boolean as false, which no
    # schema can state.
    "DEFAULT_PARSER_CLASSES": ["config.api.JSONParser"],
    # JSON only: DRF's browsable API (``?format=api``, HTML) is added by local.py under DEBUG.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "config.api.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.UserOrTokenRateThrottle",
        "config.api.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "import": env_str("API_THROTTLE_IMPORT", "30/min"),
        "token_create": env_str("API_THROTTLE_TOKEN_CREATE", "10/min"),
    },
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Specgate API",
    "DESCRIPTION": "Review software specs against curated checklists.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # /api/docs/ loads Swagger UI from our static files, never from a CDN (our CSP blocks it).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Uploads and request bodies: the importer refuses documents over 2 MB itself; leave headroom
# for multipart framing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "text")


def build_logging(fmt: str, level: str) -> dict:
    formatter = "json" if fmt == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logging.RequestIDFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": level, "propagate": False},
            "django.server": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }


LOGGING = build_logging(LOG_FORMAT, LOG_LEVEL)

# Behind proxies: how many proxies of ours (TLS terminator, load balancer) stand in front of
# the app, each appending to X-Forwarded-For. It decides the client address that allauth's
# lockouts, the API's throttles and the access log count by (config/clientip.py); 0 ignores
# X-Forwarded-For, which a client can forge.
SPECGATE_TRUSTED_PROXY_COUNT = env_int("SPECGATE_TRUSTED_PROXY_COUNT", 0)
if SPECGATE_TRUSTED_PROXY_COUNT < 0:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SPECGATE_TRUSTED_PROXY_COUNT must be 0 or more.")
ALLAUTH_TRUSTED_PROXY_COUNT = SPECGATE_TRUSTED_PROXY_COUNT
REST_FRAMEWORK["NUM_PROXIES"] = SPECGATE_TRUSTED_PROXY_COUNT  # DRF's None trusted any header

# Specgate's own settings.
SPECGATE_MFA_REQUIRED_FOR_LEADS = env_bool("SPECGATE_MFA_REQUIRED", True)
SPECGATE_IMPORT_MAX_BYTES = 2 * 1024 * 1024
# Longest life of a cached read (API lists, the gate), which the head of the audit chain keys:
# see audit/cache.py. 0 turns the cache off.
SPECGATE_READ_CACHE_SECONDS = env_int("SPECGATE_READ_CACHE_SECONDS", 300)
