"""Settings of the task workers that the fault tests start: the test settings with the
database-backed task backend (DATABASE_URL names the test database)."""

from config.settings.test import *  # noqa: F403

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": TASK_QUEUES,  # noqa: F405
    }
}
