"""Test settings: fast hashing, immediate tasks, in-memory e-mail."""

from .base import *  # noqa: F403

SPECGATE_ENV = "test"
DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = build_mailers("django.core.mail.backends.locmem.EmailBackend")  # noqa: F405
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": TASK_QUEUES,  # noqa: F405
    }
}
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
ACCOUNT_EMAIL_VERIFICATION = "optional"
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "user": "100000/min",
    "anon": "100000/min",
}
LOGGING = build_logging("text", "WARNING")  # noqa: F405
SPECGATE_MFA_REQUIRED_FOR_LEADS = False  # tests that need it turn it on
