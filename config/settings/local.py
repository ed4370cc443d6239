"""Development and the quick start: SQLite, DEBUG on, e-mail on the console."""

from config.env import env_bool, env_str

from .base import *  # noqa: F403

SPECGATE_ENV = "local"
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "django-insecure-local-development-key-change-me"
MAILERS = build_mailers(  # noqa: F405
    env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
)
if DEBUG:  # DRF's browsable API, for development only
    REST_FRAMEWORK = {  # noqa: F405
        **REST_FRAMEWORK,  # noqa: F405
        "DEFAULT_RENDERER_CLASSES": [
            *REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],  # noqa: F405
            "rest_framework.renderers.BrowsableAPIRenderer",
        ],
    }
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# The demo signs in as a lead without an authenticator app; set SPECGATE_MFA_REQUIRED=true to try it.
SPECGATE_MFA_REQUIRED_FOR_LEADS = env_bool("SPECGATE_MFA_REQUIRED", False)
