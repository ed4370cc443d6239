"""Production: secrets from the environment (no defaults), HTTPS only, JSON logs."""

from config.env import env_bool, env_int, env_required, env_str

from .base import *  # noqa: F403

SPECGATE_ENV = "production"
DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters of random text.")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# Health probes come over plain HTTP from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
LOGGING = build_logging(env_str("DJANGO_LOG_FORMAT", "json"), LOG_LEVEL)  # noqa: F405
